"""A page of headless Chromium for the report's tests (the fixtures `chromium` and `browser` are in
conftest.py)."""


class Visit:
    """A page of the browser that records console errors, uncaught exceptions and every request."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=60_000)

    def draw_every_chart(self) -> None:
        """Scroll each chart into view (they are drawn as they come near the screen) and wait for it."""
        for plot in self.page.query_selector_all("div.plot"):
            plot.scroll_into_view_if_needed()
            self.page.wait_for_selector(f"#{plot.get_attribute('id')}[data-drawn='1']", timeout=30_000)
        self.page.evaluate("window.scrollTo(0, 0)")

    def open_customer(self, customer_no: str) -> None:
        self.page.evaluate(f"location.hash = '#customer/{customer_no}'")
        self.page.wait_for_selector(f"body[data-customer='{customer_no}']", timeout=30_000)

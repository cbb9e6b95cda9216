"""How big the segment report is, how long it takes to build, and how long it takes to open.

    uv run python -m benchmarks.report --out OUT [--chromium /usr/bin/chromium] [--repeat 3]

OUT is the output folder of a finished `strata materialize` (its published copy is read). The
report is built into a temporary folder (OUT's own report is left alone) `--repeat` times in this
process (the first build pays the imports: it is reported apart), in wall and CPU seconds (CPU
seconds hardly change when other work shares the machine); then headless Chromium opens it
`--repeat` times, each in a fresh page, timing from navigation to the first screen drawn (the page
sets `data-ready`; also the CPU seconds all Chromium processes spent on it) and to every chart
drawn (scrolled into view one after the other), and once more opening a customer page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from assets.core.settings import load_settings
from assets.publishing import open_published
from assets.report import build_report


def measure_build(out: Path, target: Path, repeat: int, config: str | None) -> dict:
    settings = load_settings(config)
    copy = open_published(out)
    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = build_report(copy, settings, target)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)  # every thread of this process: robust to a busy machine
    return {
        "customers": report.customers,
        "customer_pages": report.pages,
        "bytes": report.size_bytes,
        "build_seconds_first": round(seconds[0], 2),
        "build_seconds_warm": round(statistics.median(seconds[1:]), 2) if repeat > 1 else None,
        "build_cpu_seconds_first": round(cpu[0], 2),
        "build_cpu_seconds_warm": round(statistics.median(cpu[1:]), 2) if repeat > 1 else None,
        "path": report.path,
    }


def measure_open(path: Path, chromium: str, repeat: int, customer: str | None) -> dict:
    from playwright.sync_api import sync_playwright

    seconds, cpu, every_chart, customer_seconds = [], [], [], None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        session = browser.new_browser_cdp_session()

        def browser_cpu() -> float:
            """CPU seconds of every Chromium process so far (DevTools protocol, SystemInfo domain)."""
            return sum(p["cpuTime"] for p in session.send("SystemInfo.getProcessInfo")["processInfo"])

        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start, start_cpu = time.perf_counter(), browser_cpu()
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            seconds.append(time.perf_counter() - start)
            cpu.append(browser_cpu() - start_cpu)
            for plot in page.query_selector_all("div.plot"):  # charts below the first screen
                plot.scroll_into_view_if_needed()
                page.wait_for_selector(f"#{plot.get_attribute('id')}[data-drawn='1']", timeout=120_000)
            every_chart.append(time.perf_counter() - start)
            page.close()
        if customer:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.perf_counter()
            page.goto(f"{path.as_uri()}#customer/{customer}")
            page.wait_for_selector(f"body[data-customer='{customer}']", timeout=120_000)
            customer_seconds = round(time.perf_counter() - start, 2)
        browser.close()
    return {
        "open_seconds_median": round(statistics.median(seconds), 2),
        "open_seconds_max": round(max(seconds), 2),
        "open_browser_cpu_seconds_median": round(statistics.median(cpu), 2),
        "every_chart_drawn_seconds_median": round(statistics.median(every_chart), 2),
        "customer_page_open_seconds": customer_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder of a finished run")
    parser.add_argument("--config", help="configuration file (default: the project's)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="strata-report-bench-") as tmp:
        build = measure_build(args.out, Path(tmp), max(1, args.repeat), args.config)
        path = build.pop("path")
        data = json.loads(
            path.read_text(encoding="utf-8")
            .split('<script type="application/json" id="report-data">', 1)[1]
            .split("</script>", 1)[0]
        )
        customer = data["table"]["pages"][0] if data["table"]["pages"] else None
        result = build | measure_open(path, args.chromium, max(1, args.repeat), customer)
    result["load_average_1m"] = os.getloadavg()[0]  # the machine is shared: say how busy it was
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

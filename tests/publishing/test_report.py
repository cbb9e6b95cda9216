"""The segment report: its files, its Dagster metadata, and how it renders in headless Chromium."""

import base64
import io
import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest
from PIL import Image

import assets.report as report_package
from assets.core.resources import StrataPaths
from assets.core.settings import load_settings
from assets.publishing import open_published, publish
from assets.report import build_report, charts, segment_report
from tests.publishing.browser import Visit
from tests.publishing.report_fixture import add_report_columns

CHARTS = ["whale_curve", "strata_map", "revenue_margin_quadrant", "kpi_trends", "maturity_transitions",
          "clv_p_alive", "clv_predicted_margin", "clv_backtest"]
INTERACTIVE = ["strata_map", "whale_curve", "revenue_margin_quadrant"]
STILL = ["kpi_trends", "maturity_transitions", "clv_p_alive", "clv_predicted_margin", "clv_backtest"]


@pytest.fixture
def report(warehouse, out_dir):
    add_report_columns(warehouse)
    publish(warehouse, out_dir, "report-run")
    return build_report(open_published(out_dir), load_settings(), out_dir / "report")


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_money_is_formatted_with_thousands_separators():
    assert charts.money_text(1234567.891, "USD") == "USD 1,234,568"
    assert charts.money_text(-1234.5, decimals=2) == "−1,234.50"
    from decimal import Decimal

    assert charts.money_text(Decimal("12345678901234.56"), decimals=2) == "12,345,678,901,234.56"


def test_the_report_is_one_self_contained_page_with_every_chart(report, out_dir):
    page = (out_dir / "report" / "index.html").read_text(encoding="utf-8")
    assert page.count("* plotly.js (basic - minified) v") == 1  # inlined once, whatever the number of charts
    for name in INTERACTIVE:
        assert re.search(rf'<div class="plot" id="plot-{name}"[^>]*></div><script type="application/json" data-figure=', page)
    for name in STILL:
        match = re.search(rf'id="chart-{name}"[^>]*src="data:image/png;base64,([^"]+)"', page)
        assert match, name
        width, height = _png_size(base64.b64decode(match[1]))
        assert width > 300 and height > 150
    for name in CHARTS:  # every chart also as a still PNG beside the page (and in the Dagster metadata)
        assert _png_size((out_dir / "report" / f"{name}.png").read_bytes())[0] > 300
    assert "<script src" not in page and "<link" not in page and 'src="http' not in page
    assert "shared/" not in page  # nothing a reader meets points at the project's internal notes
    assert "Reconciliation to the ledger" in page and "(USD)" in page
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2}", page)  # money with thousands separators and cents
    assert [c.name for c in report.charts] == CHARTS
    # the fixture's 39 active customers all get a page: 100 per stratum is more than any stratum has
    assert (report.customers, report.pages) == (39, 39)


def test_the_vendored_plotly_js_is_the_version_plotly_py_builds_for():
    import plotly.offline

    bundle = (Path(report_package.__file__).parent / "vendor" / "plotly-basic.min.js").read_text(encoding="utf-8")
    version = re.search(r"plotly\.js \(basic - minified\) v(\S+)", bundle[:300])[1]
    assert version == plotly.offline.get_plotlyjs_version(), (
        "replace assets/report/vendor/plotly-basic.min.js with the bundle of plotly.js "
        f"{plotly.offline.get_plotlyjs_version()} (assets/report/vendor/README.md)"
    )


def test_charts_without_data_still_render(tmp_path):
    import pandas as pd

    empty = pd.DataFrame()
    for png in (
        charts.whale_curve(empty, "–", "USD"),
        charts.strata_map(empty, "–", 0.7, 0.5),
        charts.kpi_trends(empty, empty, [], "USD"),
        charts.transition_matrix(empty, "–", ["TRANSACTIONAL", "DEVELOPING", "ADVANCED", "STRATEGIC"]),
    ):
        assert _png_size(png)[0] > 300


def test_the_asset_puts_every_chart_in_its_metadata(warehouse, out_dir):
    publish(warehouse, out_dir, "report-asset")
    result = dg.materialize(
        [segment_report],
        resources={"paths": StrataPaths(landing_dir=str(out_dir / "landing"), out_dir=str(out_dir))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    for name in CHARTS:
        text = mat.metadata[f"chart/{name}"].value
        assert text.startswith("![") and "](data:image/png;base64," in text
        width, _ = _png_size(base64.b64decode(text.split("base64,", 1)[1].rstrip(")")))
        assert width == 760  # a compact copy: the event log keeps one per run
    assert mat.metadata["report"].value == str(out_dir / "report" / "index.html")
    assert "| REVENUE |" in mat.metadata["reconciliation"].value


# --------------------------------------------------------------------------------------------------
# The page in headless Chromium, driven by Playwright (Debian's chromium: Playwright downloads nothing).

# The fixture's 30 months end with June 2026; the waterfall sums the 24 months from July 2024 on.
WATERFALL_WINDOW = ("2024-07-31", "2026-06-30")


def _newest_segments(out_dir) -> list[dict]:
    con = duckdb.connect()
    path = str(open_published(out_dir).parquet("customer_segments"))
    cur = con.execute(
        "SELECT * FROM read_parquet(?) WHERE month = (SELECT max(month) FROM read_parquet(?)) ORDER BY customer_no",
        [path, path],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_the_page_loads_offline_without_errors_and_the_strata_map_tooltip_names_the_customer(report, browser):
    visit = Visit(browser, report.path.as_uri())
    page = visit.page
    # Every point of the strata map with its customer and its centre on the screen.
    points = page.evaluate(
        """() => {
        const gd = document.getElementById('plot-strata_map');
        const out = [];
        gd.querySelectorAll('.scatterlayer .trace').forEach((trace, t) => {
            trace.querySelectorAll('path.point').forEach((p, i) => {
                const r = p.getBoundingClientRect();
                out.push({no: gd.data[t].customdata[i][0], stratum: gd.data[t].customdata[i][2],
                          name: gd.data[t].customdata[i][1], x: r.x + r.width / 2, y: r.y + r.height / 2});
            });
        });
        return out;
    }"""
    )
    assert len(points) == 39
    # The customer farthest from its nearest neighbour, so the hover cannot pick another one.
    def isolation(p):
        return min((p["x"] - q["x"]) ** 2 + (p["y"] - q["y"]) ** 2 for q in points if q is not p)

    target = max(points, key=isolation)
    row = next(r for r in _newest_segments(report.path.parent.parent) if r["customer_no"] == target["no"])
    page.mouse.move(target["x"], target["y"])
    label = page.wait_for_selector("#plot-strata_map .hoverlayer .hovertext", timeout=10_000)
    text = label.text_content()
    assert row["customer_name"] in text and row["stratum"] in text and row["customer_no"] in text, text
    assert "T12M net revenue" in text and "T12M contribution margin" in text
    page.mouse.click(target["x"], target["y"])  # a click opens the customer's page
    page.wait_for_selector(f"body[data-customer='{target['no']}']", timeout=30_000)
    assert page.text_content("#customer-title").startswith(row["customer_name"])
    assert visit.errors == []
    assert visit.requests == [report.path.as_uri()]  # the file itself, and no other request at all


def test_the_table_finds_a_customer_by_part_of_its_name_sorts_and_filters(report, browser):
    visit = Visit(browser, report.path.as_uri())
    page = visit.page
    segments = _newest_segments(report.path.parent.parent)
    wanted = segments[9]  # "Customer 0010 IT" in the fixture
    part = wanted["customer_name"][len("Customer 0") :].lower()  # e.g. "010 it": not in any customer number
    page.fill("#table-search", part)
    numbers = page.eval_on_selector_all("#customer-table tbody tr", "rows => rows.map(r => r.dataset.customer)")
    expected = [r["customer_no"] for r in segments if part in r["customer_name"].lower()]
    assert wanted["customer_no"] in numbers and numbers == expected
    page.click(f"#customer-table tbody tr[data-customer='{wanted['customer_no']}'] a")  # the row links to the page
    page.wait_for_selector(f"body[data-customer='{wanted['customer_no']}']", timeout=30_000)

    page.evaluate("location.hash = ''")
    page.wait_for_selector("#overview:not([hidden])")
    page.fill("#table-search", "")
    page.select_option("#filter-stratum", "MARGINAL")
    strata = page.eval_on_selector_all("#customer-table tbody tr td:nth-child(3)", "cells => cells.map(c => c.textContent)")
    assert strata and set(strata) == {"MARGINAL"}
    page.select_option("#filter-stratum", "")
    page.click("#customer-table th:has-text('T12M contribution margin')")  # money: largest first
    first = page.get_attribute("#customer-table tbody tr", "data-customer")
    assert first == max(segments, key=lambda r: r["contribution_margin_t12m"])["customer_no"]
    assert visit.errors == []


def test_a_customer_page_shows_the_marts_waterfall_and_factor_percentiles(report, browser, out_dir):
    visit = Visit(browser, report.path.as_uri())
    segments = {r["customer_no"]: r for r in _newest_segments(out_dir)}
    customer = "C0010"
    visit.open_customer(customer)
    trace = visit.page.evaluate(
        "() => { const d = document.getElementById('customer-waterfall').data[0]; "
        "return {x: d.x, y: d.y, text: d.text, customdata: d.customdata}; }"
    )
    con = duckdb.connect()
    waterfall = con.execute(
        "SELECT sum(gross_sales), sum(credits), sum(net_revenue), sum(cogs), sum(rebate_income), "
        "sum(services_cost), sum(gross_margin), sum(cost_to_serve), sum(contribution_margin) "
        "FROM read_parquet(?) WHERE customer_no = ? AND month BETWEEN ? AND ?",
        [str(open_published(out_dir).parquet("fct_customer_profit_monthly")), customer, *WATERFALL_WINDOW],
    ).fetchone()
    assert trace["x"][0] == "gross sales" and trace["x"][-1] == "contribution margin"
    # The last bar is the customer's contribution margin summed over the window, to the cent.
    assert Decimal(repr(trace["y"][-1])) == waterfall[-1]
    assert [Decimal(repr(v)) for v in trace["customdata"]] == list(waterfall)
    assert trace["text"][-1] == charts.money_text(waterfall[-1], decimals=0)
    # The factor percentiles that placed it in its stratum: exactly customer_segments' values.
    cells = visit.page.eval_on_selector_all(
        "td.percentile", "cells => cells.map(c => [c.dataset.factor, c.dataset.value])"
    )
    settings = load_settings()
    factors = [*settings.segments.strata.topline.weights, *settings.segments.strata.profitability.weights]
    assert [f for f, _ in cells] == factors
    for factor, value in cells:
        assert float(value) == segments[customer][f"{factor}_percentile"], factor
    assert float(visit.page.get_attribute("b[data-score='topline']", "data-value")) == segments[customer]["topline_score"]
    assert visit.page.text_content("#customer-why h2") == f"Why {segments[customer]['stratum']}"
    assert visit.page.query_selector("#customer-predicted") is None  # the marts have no predicted value yet
    assert visit.errors == [] and visit.requests == [report.path.as_uri()]


def test_predicted_value_shows_once_the_marts_carry_it(warehouse, out_dir, browser):
    add_report_columns(warehouse, predicted=True)
    publish(warehouse, out_dir, "report-predicted")
    report = build_report(open_published(out_dir), load_settings(), out_dir / "report")
    segments = {r["customer_no"]: r for r in _newest_segments(out_dir)}
    visit = Visit(browser, report.path.as_uri())
    visit.open_customer("C0010")
    block = visit.page.text_content("#customer-predicted")
    assert f"{segments['C0010']['p_alive'] * 100:.1f} %" in block
    assert segments["C0010"]["churn_risk"] in block
    headers = visit.page.eval_on_selector_all("#customer-table th", "ths => ths.map(t => t.textContent)")
    assert "p alive" in headers and "churn risk" in headers
    assert visit.errors == []


def test_the_report_renders_as_a_picture(report, browser, tmp_path):
    visit = Visit(browser, report.path.as_uri())
    visit.draw_every_chart()
    shot = tmp_path / "report.png"
    visit.page.screenshot(path=str(shot), full_page=True)
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[0] >= 4000 and pixels.shape[1] == 1280
    assert pixels.std() > 20  # not blank
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # charts, not a flat page


def test_before_the_first_segment_month_the_report_shows_still_charts_and_an_empty_table(warehouse, out_dir, browser):
    with duckdb.connect(str(warehouse)) as con:  # a run of fewer months than segments need
        con.execute("DELETE FROM marts.customer_segments; DELETE FROM marts.account_playbook")
    publish(warehouse, out_dir, "report-no-segments")
    report = build_report(open_published(out_dir), load_settings(), out_dir / "report")
    page = report.path.read_text(encoding="utf-8")
    # the five segment charts still, and the three of predicted value (with nothing to draw yet)
    assert "data-figure=" not in page and page.count('<img class="chart"') == 8
    assert (report.customers, report.pages) == (0, 0)
    visit = Visit(browser, report.path.as_uri())
    assert visit.page.text_content("#table-count") == "0–0 of 0 customers"
    visit.open_customer("C0001")  # an address from an older report: says there is no such page
    assert "has no page in this report" in visit.page.text_content("#customer-view")
    assert visit.errors == []


def test_a_click_on_the_legend_hides_a_stratum_and_a_second_shows_it(report, browser):
    visit = Visit(browser, report.path.as_uri())
    names = visit.page.evaluate("() => document.getElementById('plot-strata_map').data.map(t => t.name)")
    marginal = next(i for i, n in enumerate(names) if n.startswith("MARGINAL"))
    toggle = f"#plot-strata_map .legend .traces >> nth={marginal}"
    visible = f"() => document.getElementById('plot-strata_map').data[{marginal}].visible"
    visit.page.click(f"{toggle} >> .legendtoggle")
    visit.page.wait_for_function(f"({visible})() === 'legendonly'")
    assert visit.page.evaluate(visible) == "legendonly"
    visit.page.click(f"{toggle} >> .legendtoggle")
    visit.page.wait_for_function(f"({visible})() === true")
    assert visit.errors == []


def test_with_a_slice_of_one_a_side_the_table_links_only_the_pages_it_has(warehouse, out_dir, browser):
    from assets.core.settings import Report

    add_report_columns(warehouse)
    publish(warehouse, out_dir, "report-slice")
    settings = load_settings().model_copy(update={"report": Report(customer_pages_per_stratum=1)})
    report = build_report(open_published(out_dir), settings, out_dir / "report")
    # the fixture's four strata have 19, 4, 15 and 1 customers: the best and the worst of each, one
    # customer being both in SERVICE_DRAIN
    assert (report.customers, report.pages) == (39, 7)
    visit = Visit(browser, report.path.as_uri())
    linked = visit.page.eval_on_selector_all(
        "#customer-table tbody tr", "rows => rows.filter(r => r.querySelector('a')).map(r => r.dataset.customer)"
    )
    assert len(linked) == 7
    unlinked = next(r["customer_no"] for r in _newest_segments(out_dir) if r["customer_no"] not in linked)
    visit.open_customer(unlinked)
    assert "has no page in this report" in visit.page.text_content("#customer-view")
    assert visit.errors == []

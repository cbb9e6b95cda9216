"""The segment report: one self-contained HTML file from the published copy.

`build_report(copy, settings, report_dir)` reads the current published copy once (`data.py`: every
number comes from the marts), draws the customer charts as Plotly figures (`interactive.py`) and
every chart as a still PNG (`charts.py`), builds the customer table and pages (`pages.py`) and
assembles one HTML file with plotly.js inlined once and the data embedded as JSON (`document.py`,
`app.js`): it opens offline, from a mail attachment or a file share. `<report_dir>/index.html` and the
PNGs beside it are each replaced atomically. The Dagster asset `segment_report` puts the still charts
in its materialisation metadata, so the Dagster UI shows them.
"""

import datetime as dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.core.settings import Settings
from assets.publishing import PublishedCopy
from assets.report import charts, document, interactive, pages
from assets.report import clv as clv_section
from assets.report.chart import Chart
from assets.report.data import ReportData, read_published
from assets.report.document import Section
from assets.report.reconciliation import reconciliation_section

REPORT_DIR = "report"
INDEX = "index.html"


@dataclass
class Report:
    path: Path
    month: str | None
    charts: list[Chart] = field(default_factory=list)  # the still PNGs (files and Dagster metadata)
    reconciliation: list[dict] = field(default_factory=list)  # exact values (Decimal money)
    config_versions: list[str] = field(default_factory=list)  # of the newest month's segment assignments
    customers: int = 0  # rows of the customer table
    pages: int = 0  # customers with a page
    size_bytes: int = 0


CUSTOMER_TABLE = """<div class="controls">
<input type="search" id="table-search" aria-label="search"
 placeholder="search by customer number or part of the name">
<label>stratum <select id="filter-stratum"></select></label>
<label>segment <select id="filter-segment"></select></label>
</div>
<div class="table-wrap"><table id="customer-table"><thead><tr></tr></thead><tbody></tbody></table></div>
<div class="pager"><button type="button" id="table-prev">‹ previous</button><span id="table-count"></span>
<button type="button" id="table-next">next ›</button></div>"""


def build_report(copy: PublishedCopy, settings: Settings, report_dir: Path,
                 clv_backtest: pd.DataFrame | None = None) -> Report:
    """Write `<report_dir>/index.html` and the still PNGs from the published copy `copy` (and the
    predicted-value backtest rows, which are not published: `clv.read_backtest`)."""
    lcy = settings.currency.lcy
    strata = settings.segments.strata
    data = read_published(
        copy,
        per_stratum=settings.report.customer_pages_per_stratum,
        waterfall_months=settings.report.waterfall_months,
        window_months=settings.segments.window_months,
    )
    segments = data.segments
    month_text = data.month.isoformat() if data.month is not None else "no segment month yet"
    transitions_month = data.transitions_month.isoformat() if data.transitions_month else month_text
    report = Report(path=report_dir / INDEX, month=month_text, reconciliation=data.reconciliation)
    if "config_version" in segments:
        report.config_versions = sorted({str(v) for v in segments["config_version"].dropna()})
    still = {
        "whale_curve": charts.whale_curve(segments, month_text, lcy),
        "strata_map": charts.strata_map(
            segments, month_text, strata.topline.high_cut, strata.profitability.high_cut
        ),
        "revenue_margin_quadrant": charts.revenue_margin_quadrant(
            segments, month_text, lcy, settings.segments.quadrant.revenue_percentile_cut
        ),
        "kpi_trends": charts.kpi_trends(data.kpis, data.kpi_status, settings.kpis.targets, lcy),
        "maturity_transitions": charts.transition_matrix(
            data.transitions, transitions_month, list(settings.segments.maturity.tiers)
        ),
    }
    report.charts = [Chart(name, title, caption, still[name]) for name, title, caption in CHARTS]
    sections = overview_sections(data, settings, report.charts)
    with copy.connect() as con:
        clv = clv_section.section(con, settings, clv_backtest)
    report.charts += clv.charts
    sections += [Section(c.name, c.title, c.caption, image_uri=c.data_uri) for c in clv.charts]
    sections.append(
        Section("clv-evidence", "Predicted value — backtest and fits", clv.caption, body=clv.html)
    )
    table = pages.table(data)
    payload = {
        "meta": {
            "title": f"strata — segment report {month_text}",
            "month": month_text,
            "lcy": lcy,
            "waterfall_months": settings.report.waterfall_months,
            "waterfall_from": data.waterfall_from.isoformat() if data.waterfall_from else None,
            "cts_window_from": data.cts_window_from.isoformat() if data.cts_window_from else None,
        },
        "explain": pages.explanation(settings),
        "table": table,
    }
    customer_pages = pages.customer_pages(data, settings) if data.month is not None else {}
    report.customers, report.pages = len(table["rows"]), len(customer_pages)
    html_text = document.render_document(
        title=payload["meta"]["title"],
        subtitle=_subtitle(copy, settings, report),
        sections=sections,
        data=payload,
        pages=customer_pages,
        footer='Built by strata from the published marts (<a href="../docs/index.html">what each column '
        "means</a>: the dbt docs site beside the report). "
        "Cuts, weights and targets are the configuration's in force when the report was built.",
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    for chart in report.charts:
        _write_atomically(report_dir / f"{chart.name}.png", chart.png)
    encoded = html_text.encode("utf-8")
    _write_atomically(report.path, encoded)
    report.size_bytes = len(encoded)
    return report


CHARTS = [
    (
        "whale_curve",
        "Whale curve",
        "Customers ranked by T12M contribution margin, most profitable first. The curve rises while "
        "customers earn money and falls where they lose it; a peak above the total means the "
        "loss-makers give back part of what the best customers earn.",
    ),
    (
        "strata_map",
        "Strata map",
        "Each active customer by its top-line and profitability scores, coloured by stratum; the dashed "
        "lines are the configured cuts. A customer right of the top-line cut is high top-line; above "
        "the profitability cut (and with a positive T12M contribution margin) is high profitability.",
    ),
    (
        "revenue_margin_quadrant",
        "Revenue × margin quadrant",
        "T12M net revenue against the contribution margin %; the lines are the revenue percentile cut "
        "and the portfolio's contribution margin %.",
    ),
    (
        "kpi_trends",
        "Segment KPIs against their targets",
        "Each configured target of the customer maturity model: the KPI of each segment per month, the "
        "target band shaded, and whether the month met or missed it (kpi_target_status).",
    ),
    (
        "maturity_transitions",
        "Maturity-tier transitions",
        "How many customers moved from each maturity tier 12 months earlier to each tier now "
        "(segment_transitions, newest month).",
    ),
]
INTERACTIVE_HINT = (
    " Hover a point for the customer, click it for its page; click the legend to show or hide a group."
)


def overview_sections(data: ReportData, settings: Settings, still: list[Chart]) -> list[Section]:
    """The overview page: the three customer charts (interactive once there are segments), the
    customer table, the KPI and transition charts (still images) and the reconciliation."""
    lcy = settings.currency.lcy
    strata = settings.segments.strata
    month = data.month.isoformat() if data.month is not None else None
    by_name = {c.name: c for c in still}
    draw = {
        "strata_map": lambda: interactive.strata_map(
            data.segments, month, lcy, strata.topline.high_cut, strata.profitability.high_cut
        ),
        "whale_curve": lambda: interactive.whale_curve(data.segments, month, lcy),
        "revenue_margin_quadrant": lambda: interactive.revenue_margin_quadrant(
            data.segments, month, lcy, settings.segments.quadrant.revenue_percentile_cut
        ),
    }
    sections = []
    for name, figure in draw.items():
        chart = by_name[name]
        missing = [] if data.segments.empty else interactive.missing_columns(data.segments, name)
        if data.segments.empty or missing:
            # No segments yet, or a publication older than the columns: the still chart, and why.
            why = f" (Interactive once customer_segments has {', '.join(missing)}.)" if missing else ""
            sections.append(Section(name, chart.title, chart.caption + why, image_uri=chart.data_uri))
        else:
            sections.append(Section(name, chart.title, chart.caption + INTERACTIVE_HINT, figure=figure()))
    per_stratum = settings.report.customer_pages_per_stratum
    pages_rule = (
        "every customer has a page"
        if per_stratum is None
        else f"the {per_stratum} most and the {per_stratum} least profitable customers of each stratum "
        "(T12M contribution margin) have a page, linked from their number and name"
    )
    sections.append(
        Section(
            "customers",
            f"Customers — {month or 'no segment month yet'}",
            "Every active customer at the newest segment month (customer_segments). Search by number or part "
            "of the name, filter by stratum and maturity segment, click a column to sort; "
            f"{pages_rule} ({len(data.page_customers):,} of {len(data.segments):,}).",
            body=CUSTOMER_TABLE,
        )
    )
    for name in ("kpi_trends", "maturity_transitions"):
        chart = by_name[name]
        sections.append(Section(name, chart.title, chart.caption, image_uri=chart.data_uri))
    sections.append(reconciliation_section(data, settings))
    return sections


def _subtitle(copy: PublishedCopy, settings: Settings, report: Report) -> str:
    esc = html.escape
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    segment_versions = ""
    if report.config_versions and report.config_versions != [settings.version]:
        segment_versions = f" (segments assigned with {esc(', '.join(report.config_versions))})"
    return (
        f"Segment month {esc(report.month or '–')} · money in {esc(settings.currency.lcy)} · published copy "
        f"{esc(copy.version.name)} (run {esc(copy.run_id)}) · configuration {esc(settings.version)}"
        f"{segment_versions} · generated {esc(generated)}"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

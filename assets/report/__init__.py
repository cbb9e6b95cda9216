"""The segment report: one self-contained HTML page with the charts, from the published copy.

`build_report(copy, settings, report_dir)` reads the current published copy (resolved once, so every
chart shows the same publication), draws the charts (`charts.py`), writes `<report_dir>/index.html`
with the charts inlined as base64 PNG (one file that can be mailed or opened anywhere) and the same
PNGs beside it, each replaced atomically. The Dagster asset `segment_report` also puts every chart
in its materialisation metadata, so the Dagster UI shows them.
"""

import base64
import datetime as dt
import html
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
from PIL import Image  # matplotlib's own image library

from assets.publishing import PublishedCopy, open_published
from assets.report import charts
from assets.report import clv as clv_section
from orchestration.resources import StrataPaths
from orchestration.settings import Settings

REPORT_DIR = "report"
INDEX = "index.html"
METADATA_IMAGE_WIDTH = 760


@dataclass
class Chart:
    name: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def compact_data_uri(self, width: int = METADATA_IMAGE_WIDTH) -> str:
        """A smaller copy for the Dagster metadata (kept in the event log of every run)."""
        return "data:image/png;base64," + base64.b64encode(compact_png(self.png, width)).decode("ascii")


def compact_png(png: bytes, width: int) -> bytes:
    """`png` scaled down to `width` and reduced to 256 colours (charts have few): about 1/4 the bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    buf = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True
    )
    return buf.getvalue()


@dataclass
class Report:
    path: Path
    month: str | None
    charts: list[Chart] = field(default_factory=list)
    reconciliation: list[dict] = field(default_factory=list)  # exact values (Decimal money)
    config_versions: list[str] = field(default_factory=list)  # of the newest month's segment assignments
    extra_sections: list[str] = field(default_factory=list)  # HTML blocks after the charts


def _query(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _records(con, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts of Python values: DECIMAL stays Decimal (a DataFrame would make it float)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _has(copy: PublishedCopy, table: str) -> bool:
    return table in copy.tables


def build_report(copy: PublishedCopy, settings: Settings, report_dir: Path,
                 clv_backtest: pd.DataFrame | None = None) -> Report:
    lcy = settings.currency.lcy
    strata = settings.segments.strata
    con = copy.connect()
    empty = pd.DataFrame()
    month = None
    segments = empty
    if _has(copy, "customer_segments"):
        month = con.execute("SELECT max(month) FROM customer_segments").fetchone()[0]
        if month is not None:
            segments = _query(
                con, "SELECT * FROM customer_segments WHERE month = ? ORDER BY customer_no", [month]
            )
    month_text = month.isoformat() if month is not None else "no segment month yet"
    kpis = _query(con, "SELECT * FROM segment_kpis ORDER BY month") if _has(copy, "segment_kpis") else empty
    status = (
        _query(con, "SELECT * FROM kpi_target_status ORDER BY month")
        if _has(copy, "kpi_target_status")
        else empty
    )
    transitions, transitions_month = empty, month_text
    if _has(copy, "segment_transitions"):
        newest = con.execute(
            "SELECT max(month) FROM segment_transitions WHERE segmentation = 'maturity_tier'"
        ).fetchone()[0]
        if newest is not None:
            transitions_month = newest.isoformat()
            transitions = _query(
                con,
                "SELECT * FROM segment_transitions WHERE segmentation = 'maturity_tier' AND month = ?",
                [newest],
            )
    reconciliation, reconciliation_month = [], None
    if _has(copy, "margin_reconciliation"):
        reconciliation_month = con.execute("SELECT max(month) FROM margin_reconciliation").fetchone()[0]
        reconciliation = _records(
            con,
            "SELECT * FROM margin_reconciliation WHERE month = ? ORDER BY "
            "CASE WHEN line_item LIKE 'COST_POOL:%' THEN 2 WHEN line_item = 'OTHER' THEN 3 ELSE 1 END, "
            "CASE line_item WHEN 'REVENUE' THEN 1 WHEN 'COGS' THEN 2 WHEN 'REBATE_INCOME' THEN 3 "
            "WHEN 'SERVICES_COST' THEN 4 WHEN 'FREIGHT_COST' THEN 5 WHEN 'FREIGHT_RECOVERY' THEN 6 "
            "ELSE 7 END, "
            "line_item",
            [reconciliation_month],
        )
    clv = clv_section.section(con, settings, clv_backtest)
    con.close()

    report = Report(path=report_dir / INDEX, month=month_text, reconciliation=reconciliation)
    if "config_version" in segments:
        report.config_versions = sorted({str(v) for v in segments["config_version"].dropna()})
    report.charts = [
        Chart(
            "whale_curve",
            "Whale curve",
            "Customers ranked by T12M contribution margin, most profitable first. The curve rises while "
            "customers earn money and falls where they lose it; a peak above the total means the "
            "loss-makers give back part of what the best customers earn.",
            charts.whale_curve(segments, month_text, lcy),
        ),
        Chart(
            "strata_map",
            "Strata map",
            "Each active customer by its top-line and profitability scores, coloured by stratum; the dashed "
            "lines are the configured cuts. A customer right of the top-line cut is high top-line; above "
            "the profitability cut (and with a positive T12M contribution margin) is high profitability.",
            charts.strata_map(segments, month_text, strata.topline.high_cut, strata.profitability.high_cut),
        ),
        Chart(
            "revenue_margin_quadrant",
            "Revenue × margin quadrant",
            "T12M net revenue against the contribution margin %; the lines are the revenue percentile cut "
            "and the portfolio's contribution margin %.",
            charts.revenue_margin_quadrant(
                segments, month_text, lcy, settings.segments.quadrant.revenue_percentile_cut
            ),
        ),
        Chart(
            "kpi_trends",
            "Segment KPIs against their targets",
            "Each configured target of the customer maturity model: the KPI of each segment per month, the "
            "target band shaded, and whether the month met or missed it (kpi_target_status).",
            charts.kpi_trends(kpis, status, settings.kpis.targets, lcy),
        ),
        Chart(
            "maturity_transitions",
            "Maturity-tier transitions",
            "How many customers moved from each maturity tier 12 months earlier to each tier now "
            "(segment_transitions, newest month).",
            charts.transition_matrix(transitions, transitions_month),
        ),
        *clv.charts,
    ]
    report.extra_sections = [clv.html]
    html_text = render_html(copy, settings, report, reconciliation_month)
    report_dir.mkdir(parents=True, exist_ok=True)
    for chart in report.charts:
        _write_atomically(report_dir / f"{chart.name}.png", chart.png)
    _write_atomically(report.path, html_text.encode("utf-8"))
    return report


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def money_cell(value, lcy: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return charts.money_text(value if isinstance(value, Decimal) else Decimal(str(value)), lcy, decimals=2)


RECONCILIATION_COLUMNS = [
    ("line_item", "line item"),
    ("pipeline_amount", "pipeline"),
    ("unassigned_amount", "of it UNASSIGNED"),
    ("unallocated_amount", "unallocated"),
    ("unused_capacity_amount", "unused capacity"),
    ("gl_amount", "GL"),
    ("difference", "difference"),
    ("status", "status"),
]


def reconciliation_rows(records: list[dict]) -> list[list[str]]:
    rows = []
    for record in records:
        rows.append(
            [
                str(record[c]) if c in ("line_item", "status") else money_cell(record[c])
                for c, _ in RECONCILIATION_COLUMNS
            ]
        )
    return rows


def reconciliation_markdown(records: list[dict], lcy: str) -> str:
    if not records:
        return "No reconciliation rows yet."
    head = (
        "| "
        + " | ".join(
            f"{label} ({lcy})" if c not in ("line_item", "status") else label
            for c, label in RECONCILIATION_COLUMNS
        )
        + " |"
    )
    rule = (
        "|"
        + "|".join("---" if c in ("line_item", "status") else "---:" for c, _ in RECONCILIATION_COLUMNS)
        + "|"
    )
    body = ["| " + " | ".join(cells) + " |" for cells in reconciliation_rows(records)]
    return "\n".join([head, rule, *body])


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header { background: #1f2d3d; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 6px 0; font-size: 22px; }
header p { margin: 0; color: #c9d3dd; font-size: 13px; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 32px 48px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; margin: 18px 0;
          padding: 14px 20px; }
section h2 { font-size: 17px; margin: 4px 0 6px; }
section p.caption { color: #555; font-size: 13px; margin: 0 0 10px; max-width: 960px; }
img.chart { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e1e4e8; }
th { background: #f0f2f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.OK { color: #1b7e3b; font-weight: 600; }
td.DIFFERENCE { color: #c62828; font-weight: 600; }
td.NOT_RECONCILED { color: #777; }
nav a { margin-right: 14px; font-size: 13px; }
footer { color: #777; font-size: 12px; margin-top: 24px; }
"""


def render_html(copy: PublishedCopy, settings: Settings, report: Report, reconciliation_month) -> str:
    esc = html.escape
    lcy = settings.currency.lcy
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = " ".join(f'<a href="#{c.name}">{esc(c.title)}</a>' for c in report.charts)
    nav += ' <a href="#reconciliation">Reconciliation</a>'
    sections = []
    for chart in report.charts:
        sections.append(
            f'<section id="{chart.name}"><h2>{esc(chart.title)}</h2>'
            f'<p class="caption">{esc(chart.caption)}</p>'
            f'<img class="chart" id="chart-{chart.name}" alt="{esc(chart.title)}" src="{chart.data_uri}">'
            "</section>"
        )
    sections.extend(report.extra_sections)
    if not report.reconciliation:
        table = "<p>No reconciliation rows yet.</p>"
        recon_title = "Reconciliation to the ledger"
    else:
        head = "".join(
            f"<th>{esc(label)}{'' if c in ('line_item', 'status') else f' ({esc(lcy)})'}</th>"
            for c, label in RECONCILIATION_COLUMNS
        )
        body = []
        for cells in reconciliation_rows(report.reconciliation):
            tds = []
            for (c, _), cell in zip(RECONCILIATION_COLUMNS, cells, strict=True):
                cls = "" if c == "line_item" else (cell if c == "status" else "num")
                tds.append(f'<td class="{esc(cls)}">{esc(cell)}</td>' if cls else f"<td>{esc(cell)}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        table = (
            f'<table id="reconciliation-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )
        recon_title = f"Reconciliation to the ledger — {reconciliation_month.isoformat()}"
    sections.append(
        f'<section id="reconciliation"><h2>{esc(recon_title)}</h2><p class="caption">'
        f"Pipeline amounts against the general ledger (margin_reconciliation, newest month). OK within the "
        f"tolerance of {esc(charts.money_text(settings.reconciliation.tolerance_lcy, lcy, 2))}; cost pools "
        f"always reconcile; OTHER is shown, not reconciled.</p>{table}</section>"
    )
    segment_versions = ""
    if report.config_versions and report.config_versions != [settings.version]:
        segment_versions = f" (segments assigned with {esc(', '.join(report.config_versions))})"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>strata — segment report {esc(report.month or "")}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>strata — customer profitability and segments</h1>
<p>Segment month {esc(report.month or "–")} · money in {esc(lcy)} · published copy {esc(copy.version.name)}
(run {esc(copy.run_id)}) · configuration {esc(settings.version)}{segment_versions}
· generated {esc(generated)}</p>
</header>
<main>
<nav>{nav}</nav>
{"".join(sections)}
<footer>Built by strata from the published marts (shared/spec/marts.md); definitions in
shared/spec/methodology.md. Cuts and targets drawn from the configuration in force when the report was built.
</footer>
</main>
</body>
</html>
"""


@dg.asset(
    name="segment_report",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="The segment report: <out>/report/index.html (self-contained HTML with the whale curve, "
    "strata map, revenue × margin quadrant, KPI trends against targets, maturity transitions and the "
    "newest reconciliation), from the published copy.",
    owners=["team:data-engineering"],
    kinds={"html", "python"},
)
def segment_report(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
    settings = paths.settings()
    copy = open_published(paths.out)
    backtest = clv_section.read_backtest(paths.warehouse, paths.out, paths.target)
    report = build_report(copy, settings, paths.out / REPORT_DIR, backtest)
    context.log.info(f"wrote {report.path} ({len(report.charts)} charts) from {copy.version.name}")
    metadata = {
        "report": dg.MetadataValue.path(str(report.path)),
        "segment_month": report.month,
        "published_copy": copy.version.name,
        "reconciliation": dg.MetadataValue.md(
            reconciliation_markdown(report.reconciliation, settings.currency.lcy)
        ),
    }
    for chart in report.charts:
        metadata[f"chart/{chart.name}"] = dg.MetadataValue.md(f"![{chart.title}]({chart.compact_data_uri()})")
    return dg.MaterializeResult(metadata=metadata)

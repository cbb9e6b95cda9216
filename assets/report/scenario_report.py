"""A scenario's report page: `<out>/scenarios/<name>/report/index.html` with its charts as PNG.

What a workshop looks at (methodology §14): which settings changed, the strata migration matrix
baseline → scenario, both whale curves (cumulative contribution margin over customers ranked from
most to least profitable), and the segments whose contribution margin moves most. It reads the
comparison tables the scenario has just computed (temp tables of `con`), nothing else.
"""

from __future__ import annotations

import html
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import matplotlib

matplotlib.use("Agg")  # headless, whatever MPLBACKEND says

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from assets.core.settings import SEGMENT_CODES  # noqa: E402

STRATA = SEGMENT_CODES["stratum"]
TOP_SEGMENTS = 10
WHALE_PNG = "whale_curves.png"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.label, th.label { text-align: left; }
td.diag { background: #eef6ee; } td.moved { background: #fdeee4; font-weight: bold; }
.neg { color: #b00020; } span { white-space: nowrap; } code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _money(value: Any, lcy: str = "") -> str:
    """`-1234.5` → `−1,234.50` in red (with the currency before it when given)."""
    if value is None:
        return "–"
    text = f"{Decimal(value):,.2f}"
    css = ' class="neg"' if text.startswith("-") else ""
    return f"<span{css}>{html.escape(lcy + ' ' if lcy else '')}{text.replace('-', '−')}</span>"


def whale_points(values: list[Decimal]) -> tuple[list[float], list[float]]:
    """(share of customers, cumulative share of total contribution margin), most profitable first.

    Starts at (0, 0); the curve rises above 100 % while profitable customers are added and falls
    back to 100 % as the loss-makers are (Kaplan's whale curve).
    """
    ranked = sorted(values, reverse=True)
    total = sum(ranked, Decimal(0))
    xs, ys, running = [0.0], [0.0], Decimal(0)
    for i, v in enumerate(ranked, start=1):
        running += v
        xs.append(i / len(ranked))
        ys.append(float(running / total) if total else 0.0)
    return xs, ys


def whale_chart(baseline: list[Decimal], scenario: list[Decimal]) -> bytes:
    fig = Figure(figsize=(7, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, values, style in (("baseline", baseline, "-"), ("scenario", scenario, "--")):
        if values:
            xs, ys = whale_points(values)
            ax.plot(xs, ys, style, label=f"{label} ({len(values)} customers)")
    ax.axhline(1.0, color="#999", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("customers, most profitable first")
    ax.set_ylabel("cumulative share of total contribution margin (T12M)")
    ax.set_title("Whale curves: baseline and scenario")
    ax.legend(loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _matrix(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "SELECT baseline_segment, scenario_segment, customers FROM scenario_migrations "
        "WHERE segmentation = 'stratum'"
    ).fetchall()
    counts = {(b, s): n for b, s, n in rows}
    seen = {b for b, _, _ in rows} | {s for _, s, _ in rows}
    order = [s for s in STRATA if s in seen] + sorted(seen - set(STRATA))
    head = "".join(f"<th>{html.escape(s)}</th>" for s in order)
    body = []
    for b in order:
        cells = []
        for s in order:
            n = counts.get((b, s), 0)
            css = "diag" if b == s else ("moved" if n else "")
            cells.append(f'<td class="{css}">{n}</td>')
        body.append(f'<tr><th class="label">{html.escape(b)}</th>{"".join(cells)}</tr>')
    return f'<table><tr><th class="label">baseline ↓ / scenario →</th>{head}</tr>{"".join(body)}</table>'


def _top_segments(con: duckdb.DuckDBPyConnection, lcy: str) -> str:
    rows = con.execute(f"""
        SELECT segmentation, segment, baseline_customers, scenario_customers, baseline_contribution_margin,
               scenario_contribution_margin, contribution_margin_difference, cost_to_serve_difference
        FROM scenario_segments WHERE segment <> 'ALL'
        ORDER BY abs(contribution_margin_difference) DESC, segmentation, segment LIMIT {TOP_SEGMENTS}
    """).fetchall()
    head = (
        "<tr><th class='label'>segmentation</th><th class='label'>segment</th><th>customers</th>"
        f"<th>CM baseline ({html.escape(lcy)})</th><th>CM scenario</th><th>CM difference</th>"
        "<th>CTS difference</th></tr>"
    )
    body = "".join(
        f"<tr><td class='label'>{html.escape(sg)}</td><td class='label'>{html.escape(seg)}</td>"
        f"<td>{bc} → {sc}</td><td>{_money(bcm)}</td><td>{_money(scm)}</td><td>{_money(d)}</td>"
        f"<td>{_money(dc)}</td></tr>"
        for sg, seg, bc, sc, bcm, scm, d, dc in rows
    )
    return f"<table>{head}{body}</table>"


def write_scenario_report(
    con: duckdb.DuckDBPyConnection, folder: Path, description: dict[str, Any], lcy: str
) -> Path:
    """Write index.html and its chart into `folder`; returns the page."""
    folder.mkdir(parents=True, exist_ok=True)
    baseline = [
        v
        for (v,) in con.execute(
            "SELECT baseline_contribution_margin_t12m FROM scenario_customers "
            "WHERE baseline_contribution_margin_t12m IS NOT NULL"
        ).fetchall()
    ]
    scenario = [
        v
        for (v,) in con.execute(
            "SELECT scenario_contribution_margin_t12m FROM scenario_customers "
            "WHERE scenario_contribution_margin_t12m IS NOT NULL"
        ).fetchall()
    ]
    (folder / WHALE_PNG).write_bytes(whale_chart(baseline, scenario))
    total, changed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE changed) FROM scenario_customers"
    ).fetchone()
    all_row = con.execute(
        "SELECT baseline_contribution_margin, scenario_contribution_margin, baseline_cost_to_serve, "
        "scenario_cost_to_serve FROM scenario_segments WHERE segmentation = 'stratum' AND segment = 'ALL'"
    ).fetchone() or (None, None, None, None)
    name = html.escape(description["scenario"])
    settings = (
        "".join(f"<li><code>{html.escape(s)}</code></li>" for s in description["changed_settings"])
        or "<li>none: the scenario's configuration equals production's</li>"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strata scenario {name}</title>
<style>{STYLE}</style></head><body>
<h1>Scenario <code>{name}</code> at {html.escape(description["month"][:7])}</h1>
<p>Compared with production's marts (the baseline) at the segment month {html.escape(description["month"])}.
Configuration version {html.escape(description["config_version"])} (production:
{html.escape(description["production_config_version"])}); {len(description["models_rebuilt"])} dbt models
recomputed, everything else read from production.</p>
<h2>What changed in the configuration</h2><ul>{settings}</ul>
<h2>Customers</h2>
<p>{changed} of {total} active customers change stratum, maturity segment, quadrant, revenue tier, T12M
cost to serve or T12M contribution margin. All active customers: contribution margin
{_money(all_row[0], lcy)} → {_money(all_row[1], lcy)}; cost to serve {_money(all_row[2], lcy)} →
{_money(all_row[3], lcy)} (T12M).</p>
<h2>Strata migration matrix (customers)</h2>{_matrix(con)}
<h2>Whale curves</h2><img src="{WHALE_PNG}" alt="whale curves of the baseline and the scenario">
<h2>Segments whose contribution margin moves most</h2>{_top_segments(con, lcy)}
<p>The tables: <code>scenario_customers</code>, <code>scenario_migrations</code>,
<code>scenario_segments</code> (Parquet, one folder each, beside this report).</p>
</body></html>
"""
    page_file = folder / "index.html"
    page_file.write_text(page, encoding="utf-8")
    return page_file

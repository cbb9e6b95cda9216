"""The segment report's charts: matplotlib (Agg canvas, no pyplot state), each returned as PNG bytes.

Every function takes plain pandas frames read from the published copy and always returns a PNG: a
chart without data says so in the picture, so the report is complete from the first run on.
"""

import io
import math
from collections.abc import Sequence
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # headless, whatever MPLBACKEND says

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from assets.core.settings import SEGMENT_CODES, STRATUM_OF  # noqa: E402

DPI = 100
# Colours in the order of the configuration's codes (best first); the codes are never written here.
STRATUM_COLOURS = dict(
    zip(SEGMENT_CODES["stratum"], ("#1b9e77", "#d95f02", "#7570b3", "#999999"), strict=True)
)
QUADRANT_COLOURS = dict(
    zip(SEGMENT_CODES["profitability_quadrant"], ("#1b9e77", "#d95f02", "#7570b3", "#e7298a"), strict=True)
)
SEGMENT_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
STATUS_STYLE = {"MET": ("o", "#1b9e77"), "MISSED": ("X", "#d62728")}
RATE_KPIS = {
    "contribution_margin_pct",
    "retention_rate",
    "upsell_cross_sell_rate",
    "migration_up_rate",
    "migration_down_rate",
    "changed_rate",
    "aov_yoy_change",
    "cltv_yoy_change",
}
MONEY_KPIS = {"net_revenue", "gross_margin", "cost_to_serve", "contribution_margin", "aov", "cltv"}


def money_text(value: float, lcy: str = "", decimals: int = 0) -> str:
    """`1234567.8` → `1,234,568` (or `USD 1,234,568` with a currency); negative with a minus sign."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    exact = value if isinstance(value, Decimal) else float(value)  # Decimal formats exactly
    text = f"{exact:,.{decimals}f}"
    if text.startswith("-"):
        text = "−" + text[1:]
    return f"{lcy} {text}" if lcy else text


def money_axis(lcy: str) -> FuncFormatter:
    del lcy  # the currency is in the axis label; ticks carry thousands separators only
    return FuncFormatter(lambda v, _: money_text(v))


def _figure(width: float = 9.0, height: float = 5.5) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def no_data(title: str, why: str) -> bytes:
    fig = _figure(9, 2.2)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.text(
        0.5,
        0.45,
        why,
        ha="center",
        va="center",
        fontsize=11,
        color="#555555",
        wrap=True,
        transform=ax.transAxes,
    )
    return _png(fig)


def whale_curve(segments: pd.DataFrame, month: str, lcy: str) -> bytes:
    """Cumulative T12M contribution margin over customers ranked by it (best first)."""
    title = f"Whale curve — cumulative contribution margin, T12M to {month}"
    if segments.empty:
        return no_data(title, "No customer segments yet (segments start in the 12th month of data).")
    cm = np.sort(segments["contribution_margin_t12m"].astype(float).to_numpy())[::-1]
    n = len(cm)
    cumulative = np.concatenate([[0.0], np.cumsum(cm)])
    share = np.arange(n + 1) / n * 100
    total = cumulative[-1]
    peak_i = int(np.argmax(cumulative))
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(share, cumulative, color="#1f77b4", linewidth=2.2, label="cumulative contribution margin")
    ax.fill_between(share, 0, cumulative, color="#1f77b4", alpha=0.08)
    ax.axhline(
        total,
        color="#555555",
        linestyle="--",
        linewidth=1,
        label=f"total of all {n} customers: {money_text(total, lcy)}",
    )
    ax.axhline(0, color="black", linewidth=0.6)
    ax.scatter(
        [share[peak_i]],
        [cumulative[peak_i]],
        color="#d62728",
        zorder=5,
        label=f"peak: the best {peak_i} customers ({share[peak_i]:.0f}%) earn "
        f"{money_text(cumulative[peak_i], lcy)}",
    )
    if total > 0:
        ax.annotate(
            f"{cumulative[peak_i] / total:.0%} of the total",
            (share[peak_i], cumulative[peak_i]),
            textcoords="offset points",
            xytext=(8, 8),
            fontsize=9,
        )
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter())
    ax.yaxis.set_major_formatter(money_axis(lcy))
    ax.set_xlabel(
        "customers ranked by T12M contribution margin, most profitable first (% of active customers)"
    )
    ax.set_ylabel(f"cumulative contribution margin ({lcy})")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower center", fontsize=9)
    return _png(fig)


def strata_map(segments: pd.DataFrame, month: str, topline_cut: float, profitability_cut: float) -> bytes:
    title = f"Strata map — {month}"
    if segments.empty:
        return no_data(title, "No customer segments yet (segments start in the 12th month of data).")
    fig = _figure(10, 7)
    ax = fig.add_subplot()
    for stratum, colour in STRATUM_COLOURS.items():
        rows = segments[segments["stratum"] == stratum]
        if rows.empty:
            continue
        losing = rows["contribution_margin_t12m"].astype(float) <= 0
        ax.scatter(
            rows.loc[~losing, "topline_score"],
            rows.loc[~losing, "profitability_score"],
            s=36,
            color=colour,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.5,
            label=f"{stratum} ({len(rows)})",
        )
        if losing.any():
            ax.scatter(
                rows.loc[losing, "topline_score"],
                rows.loc[losing, "profitability_score"],
                s=40,
                color=colour,
                marker="x",
                linewidth=1.5,
            )
    ax.axvline(topline_cut, color="black", linestyle="--", linewidth=1)
    ax.axhline(profitability_cut, color="black", linestyle="--", linewidth=1)
    label_box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    ax.text(
        topline_cut + 0.01,
        0.5,
        f"top-line cut {topline_cut:.2f}",
        rotation=90,
        va="center",
        fontsize=9,
        transform=ax.get_xaxis_transform(),
        bbox=label_box,
    )
    ax.text(
        0.5,
        profitability_cut + 0.01,
        f"profitability cut {profitability_cut:.2f}",
        ha="center",
        va="bottom",
        fontsize=9,
        transform=ax.get_yaxis_transform(),
        bbox=label_box,
    )
    for (topline_high, profitability_high), name in STRATUM_OF.items():
        x, y = (0.99 if topline_high else 0.01), (0.99 if profitability_high else 0.01)
        ax.text(
            x,
            y,
            name,
            transform=ax.transAxes,
            ha="right" if x > 0.5 else "left",
            va="top" if y > 0.5 else "bottom",
            fontsize=10,
            color=STRATUM_COLOURS[name],
            fontweight="bold",
            alpha=0.7,
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("top-line score (weighted percentile of T12M net revenue, orders, product families)")
    ax.set_ylabel("profitability score (weighted percentile of T12M CM and CM %)")
    ax.set_title(
        title + "\n× = T12M contribution margin ≤ 0 (never high profitability)",
        loc="left",
        fontsize=12,
        fontweight="bold",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, title="stratum (customers)")
    return _png(fig)


def revenue_margin_quadrant(segments: pd.DataFrame, month: str, lcy: str, revenue_cut: float) -> bytes:
    """Revenue × margin: T12M net revenue (log) against T12M contribution margin %."""
    title = f"Revenue × margin quadrant — {month}"
    if segments.empty:
        return no_data(title, "No customer segments yet (segments start in the 12th month of data).")
    revenue = segments["net_revenue_t12m"].astype(float)
    cm = segments["contribution_margin_t12m"].astype(float)
    pct = cm / revenue
    portfolio = cm.sum() / revenue.sum()
    ranks = revenue.rank(method="min")
    pr = (ranks - 1) / (len(revenue) - 1) if len(revenue) > 1 else ranks * 0
    high = revenue[pr.round(9) >= round(revenue_cut, 9)]
    revenue_line = float(high.min()) if not high.empty else float(revenue.max())
    # A few tiny customers with extreme margins (−300 %) would squash everyone else into a line:
    # the axis spans the 2nd to 98th percentile (and the portfolio line), outliers sit on its edge.
    lo, hi = np.nanpercentile(pct, [2, 98])
    lo, hi = min(lo, portfolio), max(hi, portfolio)
    pad = (hi - lo) * 0.08 or 0.05
    lo, hi = lo - pad, hi + pad
    shown = pct.clip(lo, hi)
    outside = (pct < lo) | (pct > hi)
    fig = _figure(9, 6.5)
    ax = fig.add_subplot()
    for quadrant, colour in QUADRANT_COLOURS.items():
        mask = segments["profitability_quadrant"] == quadrant
        for beyond, marker in ((pct > hi, "^"), (pct < lo, "v")):
            if (mask & beyond).any():
                ax.scatter(
                    revenue[mask & beyond],
                    shown[mask & beyond],
                    s=44,
                    color=colour,
                    marker=marker,
                    edgecolor="black",
                    linewidth=0.5,
                    clip_on=False,
                )
        if mask.any():
            ax.scatter(
                revenue[mask & ~outside],
                pct[mask & ~outside],
                s=36,
                color=colour,
                alpha=0.85,
                edgecolor="white",
                linewidth=0.5,
                label=f"{quadrant} ({int(mask.sum())})",
            )
    ax.set_xscale("log")
    ax.axvline(revenue_line, color="black", linestyle="--", linewidth=1)
    ax.axhline(portfolio, color="black", linestyle="--", linewidth=1)
    label_box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    ax.text(
        revenue_line,
        0.02,
        f" revenue percentile cut {revenue_cut:.2f}: {money_text(revenue_line, lcy)}",
        rotation=90,
        ha="right",
        va="bottom",
        fontsize=9,
        transform=ax.get_xaxis_transform(),
        bbox=label_box,
    )
    ax.text(
        0.01,
        portfolio,
        f"portfolio CM % {portfolio:.1%}",
        va="bottom",
        fontsize=9,
        transform=ax.get_yaxis_transform(),
        bbox=label_box,
    )
    ax.set_ylim(lo, hi)
    if outside.any():
        ax.text(
            0.5,
            0.99,
            f"▲▼ {int(outside.sum())} customers beyond the axis, drawn on its edge",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=8,
            color="#555555",
        )
    ax.xaxis.set_major_formatter(money_axis(lcy))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"T12M net revenue ({lcy}, log scale)")
    ax.set_ylabel("T12M contribution margin % of net revenue")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9, loc="lower right", title="quadrant (customers)")
    return _png(fig)


def describe_bounds(low: float | None, high: float | None, rate: bool) -> str:
    def show(v: float) -> str:
        return f"{v:.0%}" if rate else f"{v:,g}"

    if low is not None and high is not None:
        return f"{show(low)} to {show(high)}"
    return f"≥ {show(low)}" if low is not None else f"≤ {show(high)}"


def kpi_trends(kpis: pd.DataFrame, status: pd.DataFrame, targets: Sequence, lcy: str) -> bytes:
    """One panel per configured target: the KPI per segment over the months, the target band, MET/MISSED."""
    title = "Segment KPIs against their targets"
    if kpis.empty or not targets:
        return no_data(title, "No segment KPIs yet (segments start in the 12th month of data).")
    cols = 2
    rows = math.ceil(len(targets) / cols)
    fig = _figure(12, 3.6 * rows + 0.6)
    fig.suptitle(
        title + " (band = target; ● met, ✖ missed; gaps = no data)",
        x=0.01,
        ha="left",
        fontsize=12,
        fontweight="bold",
    )
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    months = pd.to_datetime(kpis["month"])
    for ax, target in zip(axes, targets, strict=False):
        for i, segment in enumerate(target.segments):
            colour = SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)]
            mask = (kpis["segmentation"] == target.segmentation) & (kpis["segment"] == segment)
            series = kpis.loc[mask, target.kpi].astype(float)
            ax.plot(months[mask], series, color=colour, linewidth=1.8, marker=".", label=segment)
            st = status[
                (status["segmentation"] == target.segmentation)
                & (status["segment"] == segment)
                & (status["kpi"] == target.kpi)
            ]
            for name, (marker, mcolour) in STATUS_STYLE.items():
                hits = st[st["status"] == name]
                if not hits.empty:
                    ax.scatter(
                        pd.to_datetime(hits["month"]),
                        hits["value"].astype(float),
                        marker=marker,
                        s=42,
                        color=mcolour,
                        edgecolor=colour,
                        zorder=4,
                        linewidth=0.8,
                    )
        values = kpis.loc[
            (kpis["segmentation"] == target.segmentation) & kpis["segment"].isin(target.segments), target.kpi
        ].astype(float)
        ax.set_xlim(months.min() - pd.Timedelta(days=10), months.max() + pd.Timedelta(days=10))
        if not np.isfinite(values).any():
            ax.text(
                0.5,
                0.5,
                "no data yet (needs a cohort 12 months earlier)",
                ha="center",
                va="center",
                fontsize=10,
                color="#777777",
                transform=ax.transAxes,
            )
        ymin, ymax = ax.get_ylim()
        finite = [b for b in (target.low, target.high) if b is not None]
        ymin, ymax = min([ymin, *finite]), max([ymax, *finite])
        pad = (ymax - ymin) * 0.08 or 0.05
        ymin, ymax = ymin - pad, ymax + pad
        ax.set_ylim(ymin, ymax)
        ax.axhspan(
            ymin if target.low is None else target.low,
            ymax if target.high is None else target.high,
            color="#1b9e77",
            alpha=0.10,
        )
        for bound in finite:
            ax.axhline(bound, color="#1b9e77", linestyle="--", linewidth=1)
        bounds = describe_bounds(target.low, target.high, target.kpi in RATE_KPIS)
        ax.set_title(f"{target.kpi} by {target.segmentation} (target {bounds})", fontsize=10, loc="left")
        if target.kpi in RATE_KPIS:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylabel(target.kpi.replace("_", " "))
        elif target.kpi in MONEY_KPIS:
            ax.yaxis.set_major_formatter(money_axis(lcy))
            ax.set_ylabel(f"{target.kpi.replace('_', ' ')} ({lcy})")
        else:
            ax.set_ylabel(target.kpi.replace("_", " "))
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
    for ax in axes[len(targets) :]:
        ax.set_axis_off()
    return _png(fig)


def transition_matrix(transitions: pd.DataFrame, month: str, tiers: Sequence[str]) -> bytes:
    """Maturity-tier transitions at `month`: from the tier at M−12 (or NEW) to the tier at M (or INACTIVE);
    `tiers` (the configuration's, lowest first) order the rows and columns."""
    title = f"Maturity-tier transitions at {month}\n(from the tier 12 months earlier)"
    if transitions.empty:
        return no_data(title, "No transitions yet (they need segments 12 months apart).")
    seen_from = set(transitions["from_segment"])
    seen_to = set(transitions["to_segment"])
    rows = ["NEW", *tiers] + sorted(seen_from - {"NEW", *tiers})
    cols = [*tiers, "INACTIVE"] + sorted(seen_to - {"INACTIVE", *tiers})
    grid = np.zeros((len(rows), len(cols)), dtype=int)
    for f, t, n in transitions[["from_segment", "to_segment", "customers"]].itertuples(index=False):
        grid[rows.index(f), cols.index(t)] += int(n)
    fig = _figure(8.5, 6)
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="Blues")
    top = grid.max() or 1
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(
                j,
                i,
                f"{grid[i, j]:,}",
                ha="center",
                va="center",
                fontsize=11,
                color="white" if grid[i, j] > top * 0.55 else "black",
            )
    ax.set_xticks(range(len(cols)), cols, rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel(f"maturity tier at {month} (INACTIVE = no segment now)")
    ax.set_ylabel("maturity tier 12 months earlier (NEW = no segment then)")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    fig.colorbar(image, ax=ax, label="customers", shrink=0.8)
    return _png(fig)

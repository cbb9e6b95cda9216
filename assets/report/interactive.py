"""The report's interactive charts: Plotly figures of the newest segment month, one point a customer.

Each point carries its customer (`customdata`: number, name, stratum, maturity segment, T12M net
revenue and contribution margin as text), which the hover label shows and a click opens as the
customer's page (the page's script reads `customdata[0]`). One trace per stratum or quadrant, so a
click on the legend shows or hides it. The figures are returned as Plotly JSON; plotly.js draws them
in the page. The same charts as still PNGs (charts.py) go to the Dagster UI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from assets.core.settings import STRATUM_OF
from assets.report.charts import QUADRANT_COLOURS, STRATUM_COLOURS, money_text

HOVER = (
    "<b>%{customdata[1]}</b><br>%{customdata[0]} · %{customdata[2]} · %{customdata[3]}"
    "<br>T12M net revenue %{customdata[4]}<br>T12M contribution margin %{customdata[5]}"
)
FONT = '-apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
DASHED = {"color": "#333333", "width": 1, "dash": "dash"}
BASE_COLUMNS = [
    "customer_no",
    "customer_name",
    "stratum",
    "maturity_segment",
    "net_revenue_t12m",
    "contribution_margin_t12m",
]
# The customer_segments columns each figure reads (the quadrant's ratios are the mart's, not ours).
NEEDS = {
    "strata_map": [*BASE_COLUMNS, "topline_score", "profitability_score"],
    "whale_curve": BASE_COLUMNS,
    "revenue_margin_quadrant": [
        *BASE_COLUMNS,
        "profitability_quadrant",
        "contribution_margin_pct_t12m",
        "portfolio_contribution_margin_pct",
        "net_revenue_percentile",
    ],
}


def missing_columns(segments: pd.DataFrame, figure: str) -> list[str]:
    return [c for c in NEEDS[figure] if c not in segments.columns]


def customer_hover(segments: pd.DataFrame, lcy: str) -> np.ndarray:
    """One row per customer: number, name, stratum, maturity segment, T12M revenue and CM as text."""

    def money(values: pd.Series) -> list[str]:
        return [money_text(v, lcy) for v in values.astype(float)]

    return np.array(
        [
            segments["customer_no"].astype(str).tolist(),
            segments["customer_name"].fillna("").astype(str).tolist(),
            segments["stratum"].fillna("–").astype(str).tolist(),
            segments["maturity_segment"].fillna("–").astype(str).tolist(),
            money(segments["net_revenue_t12m"]),
            money(segments["contribution_margin_t12m"]),
        ],
        dtype=object,
    ).T


def _layout(fig: go.Figure, title: str, height: int, legend_title: str) -> None:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        font={"family": FONT, "size": 12},
        hovermode="closest",
        hoverlabel={"align": "left"},
        legend={"title": {"text": legend_title}, "itemclick": "toggle", "itemdoubleclick": "toggleothers"},
    )


def _groups(segments: pd.DataFrame, column: str, order: dict[str, str]) -> list[tuple[str, str, pd.Series]]:
    """(code, colour, mask) for each code of `column` present, in `order`, unknown codes after."""
    present = [c for c in segments[column].dropna().unique()]
    codes = [c for c in order if c in present] + sorted(c for c in present if c not in order)
    extra = ["#666666", "#a6761d", "#e6ab02"]
    return [
        (code, order.get(code, extra[i % len(extra)]), segments[column] == code)
        for i, code in enumerate(codes)
    ]


def strata_map(
    segments: pd.DataFrame, month: str, lcy: str, topline_cut: float, profitability_cut: float
) -> go.Figure:
    """Top-line against profitability score, a trace per stratum; × = T12M contribution margin ≤ 0."""
    fig = go.Figure()
    hover = customer_hover(segments, lcy)
    losing = segments["contribution_margin_t12m"].astype(float) <= 0
    for stratum, colour, mask in _groups(segments, "stratum", STRATUM_COLOURS):
        fig.add_trace(
            go.Scatter(
                x=segments.loc[mask, "topline_score"],
                y=segments.loc[mask, "profitability_score"],
                mode="markers",
                name=f"{stratum} ({int(mask.sum()):,})",
                marker={
                    "color": colour,
                    "size": 8,
                    "opacity": 0.85,
                    "symbol": np.where(losing[mask], "x", "circle"),
                    "line": {"color": "white", "width": 0.5},
                },
                customdata=hover[mask.to_numpy()],
                hovertemplate=HOVER + "<br>top-line %{x:.3f} · profitability %{y:.3f}<extra></extra>",
            )
        )
    fig.add_vline(x=topline_cut, line=DASHED, annotation_text=f"top-line cut {topline_cut:.2f}")
    fig.add_hline(
        y=profitability_cut, line=DASHED, annotation_text=f"profitability cut {profitability_cut:.2f}"
    )
    for (topline_high, profitability_high), name in STRATUM_OF.items():
        x, y = int(topline_high), int(profitability_high)
        fig.add_annotation(
            x=x,
            y=y,
            xref="paper",
            yref="paper",
            text=f"<b>{name}</b>",
            showarrow=False,
            xanchor="right" if x else "left",
            yanchor="top" if y else "bottom",
            font={"color": STRATUM_COLOURS[name], "size": 13},
            opacity=0.8,
        )
    fig.update_xaxes(
        title="top-line score (weighted percentile of T12M net revenue, orders, product families)",
        range=[-0.02, 1.02],
    )
    fig.update_yaxes(
        title="profitability score (weighted percentile of T12M CM and CM %)", range=[-0.02, 1.02]
    )
    _layout(fig, f"Strata map — {month} (× = T12M contribution margin ≤ 0)", 620, "stratum (customers)")
    return fig


def whale_curve(segments: pd.DataFrame, month: str, lcy: str) -> go.Figure:
    """Cumulative T12M contribution margin over the customers ranked by it; a point per customer."""
    ranked = segments.sort_values(["contribution_margin_t12m", "customer_no"], ascending=[False, True])
    cm = ranked["contribution_margin_t12m"].astype(float).to_numpy()
    n = len(cm)
    cumulative = np.cumsum(cm)
    share = np.arange(1, n + 1) / n * 100
    peak = int(np.argmax(cumulative))
    total = float(cumulative[-1])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([[0], share]),
            y=np.concatenate([[0], cumulative]),
            mode="lines",
            line={"color": "#1f77b4", "width": 2},
            hoverinfo="skip",
            showlegend=False,
            fill="tozeroy",
            fillcolor="rgba(31,119,180,0.08)",
        )
    )
    hover = customer_hover(ranked, lcy)
    cumulative_text = np.array([money_text(v, lcy) for v in cumulative], dtype=object)
    for stratum, colour, mask in _groups(ranked, "stratum", STRATUM_COLOURS):
        m = mask.to_numpy()
        fig.add_trace(
            go.Scatter(
                x=share[m],
                y=cumulative[m],
                mode="markers",
                name=f"{stratum} ({int(m.sum()):,})",
                marker={"color": colour, "size": 6},
                customdata=np.column_stack([hover[m], cumulative_text[m]]),
                hovertemplate=HOVER + "<br>best %{x:.1f} % of customers: %{customdata[6]}<extra></extra>",
            )
        )
    fig.add_hline(
        y=total,
        line=DASHED,
        annotation_text=f"total of all {n:,} customers: {money_text(total, lcy)}",
        annotation_position="bottom right",
    )
    ratio = f" ({cumulative[peak] / total:.0%} of the total)" if total > 0 else ""
    fig.add_annotation(
        x=share[peak],
        y=cumulative[peak],
        text=f"peak: the best {peak + 1:,} customers earn {money_text(cumulative[peak], lcy)}{ratio}",
        showarrow=True,
        arrowhead=2,
        ay=-30,
    )
    fig.update_xaxes(
        title="customers ranked by T12M contribution margin, most profitable first (% of active customers)",
        range=[0, 100],
        ticksuffix=" %",
    )
    fig.update_yaxes(title=f"cumulative contribution margin ({lcy})", tickformat=",.0f")
    _layout(fig, f"Whale curve — cumulative contribution margin, T12M to {month}", 560, "stratum (customers)")
    return fig


def revenue_margin_quadrant(segments: pd.DataFrame, month: str, lcy: str, revenue_cut: float) -> go.Figure:
    """T12M net revenue (log) against CM %; margins beyond the 2nd–98th percentile sit on the axis edge
    (▲▼), their true value in the hover label."""
    revenue = segments["net_revenue_t12m"].astype(float)
    pct = segments["contribution_margin_pct_t12m"].astype(float)
    portfolio = float(segments["portfolio_contribution_margin_pct"].dropna().iloc[0])
    high = revenue[segments["net_revenue_percentile"].round(9) >= round(revenue_cut, 9)]
    revenue_line = float(high.min()) if not high.empty else float(revenue.max())
    lo, hi = np.nanpercentile(pct, [2, 98])
    lo, hi = min(lo, portfolio), max(hi, portfolio)
    pad = (hi - lo) * 0.06 or 0.05
    lo, hi = lo - pad, hi + pad
    shown = pct.clip(lo, hi)
    symbol = np.where(pct > hi, "triangle-up", np.where(pct < lo, "triangle-down", "circle"))
    hover = customer_hover(segments, lcy)
    pct_text = np.array([f"{v:.1%}" if np.isfinite(v) else "–" for v in pct], dtype=object)
    fig = go.Figure()
    for quadrant, colour, mask in _groups(segments, "profitability_quadrant", QUADRANT_COLOURS):
        m = mask.to_numpy()
        fig.add_trace(
            go.Scatter(
                x=revenue[m],
                y=shown[m],
                mode="markers",
                name=f"{quadrant} ({int(m.sum()):,})",
                marker={
                    "color": colour,
                    "size": 8,
                    "opacity": 0.85,
                    "symbol": symbol[m],
                    "line": {"color": "white", "width": 0.5},
                },
                customdata=np.column_stack([hover[m], pct_text[m]]),
                hovertemplate=HOVER
                + "<br>contribution margin %{customdata[6]} of net revenue<extra></extra>",
                cliponaxis=False,  # the ▲▼ on the axis edge drawn whole
            )
        )
    fig.add_vline(x=revenue_line, line=DASHED)
    fig.add_annotation(  # annotations on a log axis take log10 of the value (shapes take the value)
        x=np.log10(revenue_line),
        y=1,
        yref="paper",
        text=f" revenue percentile cut {revenue_cut:.2f}: {money_text(revenue_line, lcy)}",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.add_hline(
        y=portfolio,
        line=DASHED,
        annotation_text=f"portfolio CM % {portfolio:.1%}",
        annotation_position="bottom left",
    )
    fig.update_xaxes(title=f"T12M net revenue ({lcy}, log scale)", type="log", dtick=1, tickformat=",.0f")
    fig.update_yaxes(
        title="T12M contribution margin % of net revenue (▲▼ beyond the axis)",
        tickformat=".0%",
        range=[lo, hi],
    )
    _layout(fig, f"Revenue × margin quadrant — {month}", 600, "quadrant (customers)")
    return fig

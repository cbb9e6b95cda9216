"""The report's predicted-value section (methodology §13): who is slipping away, what each segment
will bring, and how well last year's predictions came true.

Kept apart from the rest of the report: `section(con, settings, backtest)` takes a connection to the
published copy and the backtest rows (`read_backtest`, from the warehouse: the occasions are not
published) and returns its charts and one HTML block; the report only appends them.
"""

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from assets.core.engines import open_layers
from assets.core.settings import SEGMENT_CODES, STRATUM_OF, Settings
from assets.report.chart import Chart
from assets.report.charts import STRATUM_COLOURS, _figure, _png, money_axis, no_data

STRATA = SEGMENT_CODES["stratum"]

BACKTEST_SQL = """
SELECT fitted_month, month, customer_no, stratum, predicted_occasions, actual_occasions
FROM intermediate.int_clv_backtest
WHERE fitted_month = (SELECT max(fitted_month) FROM intermediate.int_clv_backtest)
ORDER BY stratum, customer_no
"""


@dataclass
class ClvSection:
    charts: list = field(default_factory=list)  # assets.report.chart.Chart
    caption: str = ""  # of the evidence block
    html: str = ""  # the evidence block's body: backtest and fits tables


def read_backtest(warehouse: Path, out: Path, target: str) -> pd.DataFrame:
    """The newest complete backtest (fitted at M − horizon, actual occasions up to M), per customer;
    empty when the warehouse has none yet."""
    with open_layers(warehouse, out, target) as con:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'intermediate' AND table_name = 'int_clv_backtest'").fetchone()[0]
        return con.execute(BACKTEST_SQL).df() if found else pd.DataFrame()


def backtest_by_segment(backtest: pd.DataFrame) -> pd.DataFrame:
    """Per stratum and for ALL: customers, mean predicted and actual occasions, mean absolute error
    and bias (mean of predicted − actual: positive = over-predicted)."""
    if backtest.empty:
        return pd.DataFrame(columns=["segment", "customers", "predicted", "actual", "mae", "bias"])
    frame = backtest.assign(
        error=backtest["predicted_occasions"] - backtest["actual_occasions"],
        predicted=backtest["predicted_occasions"].astype(float),
        actual=backtest["actual_occasions"].astype(float),
    )
    frame["abs_error"] = frame["error"].abs()
    rows = []
    for segment, part in [*((s, frame[frame["stratum"] == s]) for s in STRATA), ("ALL", frame)]:
        if part.empty:
            continue
        rows.append({"segment": segment, "customers": len(part), "predicted": part["predicted"].mean(),
                     "actual": part["actual"].mean(), "mae": part["abs_error"].mean(),
                     "bias": part["error"].mean()})
    return pd.DataFrame(rows)


def p_alive_chart(segments: pd.DataFrame, month: str, lcy: str, high_below: float,
                  medium_below: float) -> bytes:
    title = f"Who is slipping away — p_alive against T12M contribution margin, {month}"
    if segments.empty or segments["p_alive"].isna().all():
        return no_data(title, "No predictions for this month (see clv_model_fits for why).")
    fig = _figure(10, 6.5)
    ax = fig.add_subplot()
    for stratum, colour in STRATUM_COLOURS.items():
        rows = segments[(segments["stratum"] == stratum) & segments["p_alive"].notna()]
        if rows.empty:
            continue
        at_risk = rows["churn_risk"] == "HIGH"
        ax.scatter(rows["contribution_margin_t12m"].astype(float), rows["p_alive"], s=30, color=colour,
                   alpha=0.75, edgecolor="white", linewidth=0.5,
                   label=f"{stratum} ({len(rows)}, {int(at_risk.sum())} at risk)")
    core = STRATUM_OF[(True, True)]  # high top-line, high profitability (methodology §7)
    core_risk = segments[(segments["stratum"] == core) & (segments["churn_risk"] == "HIGH")]
    if not core_risk.empty:
        ax.scatter(core_risk["contribution_margin_t12m"].astype(float), core_risk["p_alive"], s=140,
                   facecolor="none", edgecolor="#c62828", linewidth=1.8, label=f"{core} at risk (HIGH)")
        for row in core_risk.nlargest(5, "contribution_margin_t12m").itertuples():
            ax.annotate(row.customer_no, (float(row.contribution_margin_t12m), row.p_alive), fontsize=8,
                        xytext=(6, 4), textcoords="offset points", color="#c62828")
    for cut, name in ((high_below, "HIGH below"), (medium_below, "MEDIUM below")):
        ax.axhline(cut, color="black", linestyle="--", linewidth=1)
        ax.text(0.005, cut + 0.01, f"churn risk {name} {cut:.2f}", fontsize=9,
                transform=ax.get_yaxis_transform())
    typical = float(segments["contribution_margin_t12m"].abs().median() or 1)
    ax.set_xscale("symlog", linthresh=max(1.0, typical))
    ax.xaxis.set_major_formatter(money_axis(lcy))
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel(f"T12M contribution margin ({lcy}, symmetric log scale)")
    ax.set_ylabel("p_alive (BG/NBD)")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, title="stratum (customers)")
    return _png(fig)


def predicted_margin_chart(kpis: pd.DataFrame, month: str, lcy: str, horizon: int) -> bytes:
    title = f"Predicted contribution margin, next {horizon} months, per stratum — {month}"
    rows = kpis[(kpis["segmentation"] == "stratum") & (kpis["segment"] != "ALL")] if not kpis.empty else kpis
    if rows.empty or rows["predicted_contribution_margin_12m"].isna().all():
        return no_data(title, "No predictions for this month (see clv_model_fits for why).")
    rows = rows.set_index("segment").reindex([s for s in STRATA if s in set(rows["segment"])])
    fig = _figure(9, 5)
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["contribution_margin"].astype(float), 0.4, color="#bbbbbb",
           label="T12M (last 12 months)")
    ax.bar(x + 0.2, rows["predicted_contribution_margin_12m"].astype(float), 0.4,
           color=[STRATUM_COLOURS[s] for s in rows.index], label=f"predicted (next {horizon} months)")
    for i, (_, row) in enumerate(rows.iterrows()):
        at_risk = int(row["at_risk_customers"] or 0)
        ax.text(i + 0.2, float(row["predicted_contribution_margin_12m"] or 0), f"{at_risk} at risk",
                ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, rows.index)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.yaxis.set_major_formatter(money_axis(lcy))
    ax.set_ylabel(f"contribution margin ({lcy})")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.legend(fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def backtest_chart(summary: pd.DataFrame, fitted: str, month: str) -> bytes:
    title = f"Backtest — occasions predicted at {fitted} against those in the months up to {month}"
    if summary.empty:
        return no_data("Backtest", "No backtest yet: it needs a fitted month with a full horizon of data "
                       "after it.")
    fig = _figure(9, 5)
    ax = fig.add_subplot()
    x = np.arange(len(summary))
    ax.bar(x - 0.2, summary["predicted"], 0.4, color="#4c72b0", label="predicted (mean per customer)")
    ax.bar(x + 0.2, summary["actual"], 0.4, color="#dd8452", label="actual (mean per customer)")
    ax.set_xticks(x, summary["segment"])
    ax.set_ylabel("purchase occasions per customer")
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.legend(fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def backtest_table(summary: pd.DataFrame) -> str:
    if summary.empty:
        return "<p>No backtest yet.</p>"
    head = "".join(f"<th>{h}</th>" for h in (
        "stratum at fit", "customers", "predicted (mean)", "actual (mean)", "mean absolute error",
        "bias (predicted − actual)"))
    body = "".join(
        f"<tr><td>{escape(str(r.segment))}</td><td class='num'>{r.customers}</td>"
        f"<td class='num'>{r.predicted:.2f}</td><td class='num'>{r.actual:.2f}</td>"
        f"<td class='num'>{r.mae:.2f}</td><td class='num'>{r.bias:+.2f}</td></tr>"
        for r in summary.itertuples())
    return f'<table id="clv-backtest-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def fits_table(fits: pd.DataFrame) -> str:
    if fits.empty:
        return "<p>No fits yet.</p>"
    body = "".join(
        f"<tr><td>{escape(str(r.model))}</td><td class='num'>{r.customers}</td>"
        f"<td>{escape(str(r.parameters or ''))}</td>"
        f"<td class='num'>{'' if pd.isna(r.log_likelihood) else f'{r.log_likelihood:,.1f}'}</td>"
        f"<td>{escape(str(r.message))}</td></tr>" for r in fits.itertuples())
    return ("<table id='clv-fits-table'><thead><tr><th>model</th><th>customers</th><th>parameters</th>"
            f"<th>log-likelihood</th><th>status</th></tr></thead><tbody>{body}</tbody></table>")


def section(con, settings: Settings, backtest: pd.DataFrame | None) -> ClvSection:
    """The charts and HTML of the section, from the published copy (`con`) and the backtest rows."""
    lcy, pv = settings.currency.lcy, settings.predicted_value
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    month = con.execute("SELECT max(month) FROM customer_segments").fetchone()[0] \
        if "customer_segments" in tables else None
    month_text = month.isoformat() if month is not None else "no segment month yet"
    segments = kpis = fits = pd.DataFrame()
    columns = {(t, c) for t, c in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns").fetchall()}
    # Each part shows once its mart carries the columns (a publication older than them has none).
    if month is not None and ("customer_segments", "p_alive") in columns:
        segments = con.execute("SELECT customer_no, stratum, contribution_margin_t12m, p_alive, churn_risk "
                               "FROM customer_segments WHERE month = ?", [month]).df()
    if month is not None and ("segment_kpis", "predicted_contribution_margin_12m") in columns:
        kpis = con.execute("SELECT * FROM segment_kpis WHERE month = ?", [month]).df()
    if month is not None and "clv_model_fits" in tables:
        fits = con.execute("SELECT * FROM clv_model_fits WHERE month = ? ORDER BY model", [month]).df()
    backtest = backtest if backtest is not None else pd.DataFrame()
    summary = backtest_by_segment(backtest)
    fitted = str(backtest["fitted_month"].iloc[0]) if not backtest.empty else "–"
    until = str(backtest["month"].iloc[0]) if not backtest.empty else "–"
    charts = [
        Chart("clv_p_alive", "Who is slipping away",
              "Each active customer's probability of still buying (p_alive, BG/NBD) against its T12M "
              "contribution margin, by stratum. Ringed in red: CORE customers with HIGH churn risk, the "
              "valuable accounts to call first. The dashed lines are the configured churn-risk cuts.",
              p_alive_chart(segments, month_text, lcy, pv.churn_risk_high_below, pv.churn_risk_medium_below)),
        Chart("clv_predicted_margin", "Predicted contribution margin per stratum",
              f"The contribution margin the stratum's customers are expected to bring in the next "
              f"{pv.horizon_months} months (expected occasions × expected order value × their current "
              "margin rate), beside what they brought in the last 12; the label counts HIGH-risk customers.",
              predicted_margin_chart(kpis, month_text, lcy, pv.horizon_months)),
        Chart("clv_backtest", "Backtest of predicted occasions",
              f"The fit of {fitted} (data up to that day only) predicted each customer's purchase occasions "
              f"for the next {pv.horizon_months} months; the bars compare the mean prediction with what "
              "happened, per stratum at the time of the fit.",
              backtest_chart(summary, fitted, until)),
    ]
    caption = (
        f"Backtest fitted at {fitted}, actual occasions up to {until}: mean absolute error and bias of the "
        f"predicted occasions per customer. Below, the fits of {month_text} (clv_model_fits); a month "
        "whose fit did not converge has no predictions."
    )
    tables = f"{backtest_table(summary)}<p></p>{fits_table(fits)}"
    return ClvSection(charts=charts, caption=caption, html=tables)


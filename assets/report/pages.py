"""The customer table and the customer pages, as the JSON the report's script renders.

The table lists every active customer of the newest segment month; a page exists for the customers
of `ReportData.page_customers`. Every value is a mart's (customer_segments, account_playbook,
fct_customer_profit_monthly and fct_cost_to_serve_monthly summed over their windows); the factor
names, weights, tiers and cuts that explain them come from the configuration. Money is sent as JSON
numbers written from the exact decimals (cents survive: a double holds any amount below 2^53 cents).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd

from assets.core.settings import Settings
from assets.report.charts import STRATUM_COLOURS
from assets.report.data import ACTIVITIES, WATERFALL, ReportData

# The table's columns: (key, label, kind). Predicted-value columns join when the marts have them.
TABLE_COLUMNS = [
    ("customer_no", "customer", "text"),
    ("customer_name", "name", "text"),
    ("stratum", "stratum", "code"),
    ("maturity_segment", "segment", "code"),
    ("maturity_tier", "maturity tier", "code"),
    ("profitability_quadrant", "quadrant", "code"),
    ("net_revenue_t12m", "T12M net revenue", "money"),
    ("contribution_margin_t12m", "T12M contribution margin", "money"),
    ("contribution_margin_pct_t12m", "CM %", "pct"),
]
PREDICTED_TABLE_COLUMNS = [
    ("p_alive", "p alive", "pct"),
    ("churn_risk", "churn risk", "code"),
    ("predicted_contribution_margin_12m", "predicted CM 12m", "money"),
]
# Appetite factors of the configuration → the customer_segments column holding each one's value.
APPETITE_COLUMNS = {
    "growth_appetite_survey": ("survey_growth_appetite", "score"),
    "attended_activities": ("attended_activities_percentile", "percentile"),
    "opportunities_created": ("opportunities_created_percentile", "percentile"),
}
APPETITE_COUNTS = {
    "attended_activities": "attended_activities_t12m",
    "opportunities_created": "opportunities_created_t12m",
}


def plain(value):
    """A JSON-ready value: Decimal → float (its shortest repr is the decimal), NaN/NaT → None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    if value is pd.NaT or (not isinstance(value, str | bool | int) and pd.isna(value)):
        return None
    return value


def table(data: ReportData) -> dict:
    """Columns and rows (one list per customer) of every active customer at the newest month."""
    columns = [c for c in TABLE_COLUMNS if c[0] in data.segments.columns]
    columns += [c for c in PREDICTED_TABLE_COLUMNS if c[0] in data.predicted_columns]
    keys = [c[0] for c in columns]
    rows = [[plain(v) for v in row] for row in data.segments[keys].itertuples(index=False, name=None)]
    return {
        "columns": [{"key": k, "label": label, "kind": kind} for k, label, kind in columns],
        "rows": rows,
        "pages": list(data.page_customers),
    }


def explanation(settings: Settings) -> dict:
    """The configuration behind the pages: factor weights, cuts, tiers, segments (never hard-coded)."""
    seg = settings.segments
    return {
        "topline": {"weights": dict(seg.strata.topline.weights), "cut": seg.strata.topline.high_cut},
        "profitability": {
            "weights": dict(seg.strata.profitability.weights),
            "cut": seg.strata.profitability.high_cut,
        },
        "maturity_weights": dict(seg.maturity.dimension_weights),
        "tiers": dict(seg.maturity.tiers),
        "appetite_weights": dict(seg.appetite.weights),
        "maturity_cut": seg.maturity_segment.maturity_cut,
        "appetite_cut": seg.maturity_segment.appetite_cut,
        "segments": list(seg.playbook),
        "strata": list(STRATUM_COLOURS),  # methodology §7's codes, in the charts' order
        "activities": ACTIVITIES,
        "waterfall": WATERFALL,
        "window_months": seg.window_months,
    }


def _factors(row: dict, weights: dict[str, float]) -> list[dict]:
    """Each strata factor: its T12M value, its percentile rank and its configured weight."""
    return [
        {
            "factor": name,
            "value": row.get(f"{name}_t12m"),
            "percentile": row.get(f"{name}_percentile"),
            "weight": weight,
        }
        for name, weight in weights.items()
    ]


def customer_pages(data: ReportData, settings: Settings) -> dict[str, dict]:
    """customer_no → everything its page shows."""
    seg = settings.segments
    wanted = set(data.page_customers)
    rows = {r["customer_no"]: r for r in data.segments.to_dict("records") if r["customer_no"] in wanted}
    pages = {}
    for no in data.page_customers:
        row = {k: plain(v) for k, v in rows[no].items()}
        segment = row.get("maturity_segment") or "(none)"
        cts = data.cts.get(no, {})
        medians = data.cts_medians.get(segment, {})
        activities = [a for a in ACTIVITIES if a in medians] + sorted(
            a for a in medians if a not in ACTIVITIES
        )
        page = {
            "customer": row,
            "why": {
                "topline": _factors(row, seg.strata.topline.weights),
                "profitability": _factors(row, seg.strata.profitability.weights),
            },
            "maturity": [
                {"dimension": name, "value": row.get(name), "weight": weight}
                for name, weight in seg.maturity.dimension_weights.items()
            ],
            "appetite": [
                {
                    "factor": name,
                    "value": row.get(APPETITE_COLUMNS[name][0]),
                    "kind": APPETITE_COLUMNS[name][1],
                    "count": row.get(APPETITE_COUNTS[name]) if name in APPETITE_COUNTS else None,
                    "weight": weight,
                }
                for name, weight in seg.appetite.weights.items()
            ],
            "cost_to_serve": [
                {"activity": a, "cost": plain(cts.get(a, Decimal(0))), "segment_median": plain(medians[a])}
                for a in activities
            ],
            "playbook": {k: plain(v) for k, v in data.playbook.get(no, {}).items()},
            "predicted": {c: row.get(c) for c in data.predicted_columns},
        }
        if no in data.waterfall:
            page["waterfall"] = {k: plain(v) for k, v in data.waterfall[no].items()}
        if no in data.monthly:
            months, revenue, margin = zip(*data.monthly[no], strict=True)
            page["monthly"] = {
                "month": [plain(m) for m in months],
                "net_revenue": [plain(v) for v in revenue],
                "contribution_margin": [plain(v) for v in margin],
            }
        pages[no] = page
    return pages

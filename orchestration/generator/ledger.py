"""The general ledger (erp/gl_balances): one row per account and month, consistent with the lines.

Each reconciled category is posted from the same transactions the extracts carry, summed exactly
and rounded to cents (half away from zero) once: revenue and COGS per product family (invoices −
credit memos, revenue converted at the month's rate; the family accounts add up to the rounded
total), vendor rebate income (APPROVED + PAID claims), services cost (billable time), freight cost
and freight recovered. So every reconciled line item of the ledger equals, to the cent, what the
pipeline publishes. The six cost pools hold plausible activity costs (a rate per
driver unit with some noise); OTHER accounts are overheads that are not reconciled.

One manual journal is planted: a revenue accrual booked straight to the ledger in one month, with no
sales line behind it. Reconciliation must find exactly that difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.calendar import Calendar
from orchestration.generator.fx import RATE_SCALE, Rates

REVENUE_ACCOUNTS = [
    ("4010", "Sales - hardware"),
    ("4020", "Sales - peripherals"),
    ("4030", "Sales - software"),
    ("4040", "Sales - cloud subscriptions"),
    ("4050", "Sales - services"),
]
COGS_ACCOUNTS = [
    ("5010", "Cost of sales - hardware"),
    ("5020", "Cost of sales - peripherals"),
    ("5030", "Cost of sales - software"),
    ("5040", "Cost of sales - cloud subscriptions"),
    ("5050", "Cost of sales - services"),
]
POOLS = ("ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS")
POOL_ACCOUNTS = [
    ("6110", "Order entry and customer service"),
    ("6210", "Warehouse operations"),
    ("6310", "Returns processing"),
    ("6410", "Sales force and account management"),
    ("6510", "Technical support desk"),
    ("6610", "Credit and collections"),
]
# cost per driver unit in LCY cents (order entry per weighted line, warehouse per line, returns per
# returned line, sales coverage per minute, support per non-billable hour, collections per unit)
POOL_UNIT_CENTS = np.array([900, 1200, 6500, 150, 6500, 600])
POOL_FIXED_CENTS_PER_CUSTOMER = np.array([300, 800, 100, 500, 300, 150])  # capacity kept whatever the volume
OTHER_ACCOUNTS = [
    ("7110", "Rent and facilities", 2_500_000, 4_000),
    ("7210", "IT systems and licences", 1_200_000, 2_200),
    ("7310", "Depreciation", 800_000, 1_500),
    ("7410", "Marketing", 500_000, 3_000),
    ("8110", "Interest expense", 300_000, 900),
]  # fixed cents, cents per customer
PLANTED_ACCOUNT = ("4990", "Manual journal JE-ACCR-017 revenue accrual (no invoice)")
CATEGORIES = (
    "REVENUE",
    "COGS",
    "REBATE_INCOME",
    "SERVICES_COST",
    "FREIGHT_COST",
    "FREIGHT_RECOVERY",
    "COST_POOL",
    "OTHER",
)


@dataclass(frozen=True)
class Drivers:
    """A month's cost-pool driver units (methodology §4), from the generated rows."""

    order_entry_units_x10: int
    warehouse_lines: int
    return_lines: int
    activity_minutes: int
    non_billable_hundredths: int
    invoice_documents: int
    late_payments: int

    def units(self) -> np.ndarray:
        return np.array(
            [
                self.order_entry_units_x10 / 10,
                self.warehouse_lines,
                self.return_lines,
                self.activity_minutes,
                self.non_billable_hundredths / 100,
                self.invoice_documents + 5 * self.late_payments,
            ],
            dtype=np.float64,
        )


@dataclass(frozen=True)
class Postings:
    """A month's exact totals of the reconciled categories."""

    net_by_family_currency: np.ndarray  # (5, currencies) currency cents
    cogs_by_family: np.ndarray  # (5,) LCY cents
    rebate_income_cents: int
    services_cost_e4: int  # 1/10000 LCY
    freight_cost_cents: int
    freight_charged_cents: int


def revenue_e8(net_by_family_currency: np.ndarray, fx: Rates, m: int) -> list[int]:
    """Exact revenue per family in 1e-8 LCY (cents × rate in millionths), as Python ints."""
    micro = [int(x) for x in fx.micro[:, m]]
    return [sum(int(v) * micro[c] for c, v in enumerate(row)) for row in net_by_family_currency]


def revenue_cents(net_by_family_currency: np.ndarray, fx: Rates, m: int) -> list[int]:
    """Revenue per family in LCY cents, each rounded half away from zero, except that the largest
    family absorbs the rounding so that the accounts add up to the rounded exact total: the ledger's
    REVENUE is then exactly what the pipeline publishes (round(Σ net × rate))."""
    exact = revenue_e8(net_by_family_currency, fx, m)
    cents = [col.div_round(e8, RATE_SCALE) for e8 in exact]
    if any(exact):
        largest = max(range(len(exact)), key=lambda f: abs(exact[f]))
        cents[largest] += col.div_round(sum(exact), RATE_SCALE) - sum(cents)
    return cents


def month_ledger(
    cal: Calendar,
    fx: Rates,
    m: int,
    post: Postings,
    drivers: Drivers,
    customers: int,
    rng: np.random.Generator,
    planted_cents: int | None,
) -> pa.Table:
    rows: list[tuple[str, str, int, int, int]] = []  # code, name, category, pool (-1), cents
    for f, cents in enumerate(revenue_cents(post.net_by_family_currency, fx, m)):
        if cents:
            rows.append((*REVENUE_ACCOUNTS[f], 0, -1, cents))
    for f, cents in enumerate(post.cogs_by_family):
        if cents:
            rows.append((*COGS_ACCOUNTS[f], 1, -1, int(cents)))
    rows.append(("4510", "Vendor rebate income", 2, -1, post.rebate_income_cents))
    rows.append(("5310", "Cost of professional services", 3, -1, col.div_round(post.services_cost_e4, 100)))
    rows.append(("5410", "Outbound freight", 4, -1, post.freight_cost_cents))
    rows.append(("4610", "Freight recovered from customers", 5, -1, post.freight_charged_cents))
    noise = rng.uniform(0.96, 1.04, len(POOLS))
    pools = col.round_half_away(
        (POOL_FIXED_CENTS_PER_CUSTOMER * customers + POOL_UNIT_CENTS * drivers.units()) * noise
    )
    for p, (code, name) in enumerate(POOL_ACCOUNTS):
        rows.append((code, name, 6, p, int(pools[p])))
    season = cal.season[m]
    for code, name, fixed, per_customer in OTHER_ACCOUNTS:
        amount = (
            (fixed + per_customer * customers) * (season if code == "7410" else 1.0) * rng.uniform(0.98, 1.02)
        )
        rows.append((code, name, 7, -1, int(col.round_half_away(np.array([amount]))[0])))
    if planted_cents is not None:
        rows.append((*PLANTED_ACCOUNT, 0, -1, planted_cents))
    rows.sort()
    pool = np.array([r[3] for r in rows])
    return pa.table(
        {
            "period_end": col.dates(np.full(len(rows), cal.end[m])),
            "account_code": pa.array([r[0] for r in rows], pa.string()),
            "account_name": pa.array([r[1] for r in rows], pa.string()),
            "account_category": col.labels(CATEGORIES, np.array([r[2] for r in rows])),
            "cost_pool": col.labels(POOLS, np.maximum(pool, 0), valid=pool >= 0),
            "amount_lcy": col.money(np.array([r[4] for r in rows], dtype=np.int64)),
        }
    )

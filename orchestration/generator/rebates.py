"""Vendor rebate claims (erp/rebate_claims).

Programme vendors pay back a share of the distributor's net sales of their products. The distributor
claims per invoice line (some claims name only the invoice) and, at quarter end, volume rebates for
its large customers (no invoice, no item). Older claims are mostly PAID; recent ones still
SUBMITTED; some are REJECTED. Only APPROVED and PAID claims are income.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.calendar import Calendar
from orchestration.generator.catalog import CLOUD, HARDWARE, SOFTWARE, Catalog
from orchestration.generator.fx import Rates
from orchestration.generator.population import Population
from orchestration.generator.rng import pick
from orchestration.generator.sales import SalesMonth

STATUSES = ("SUBMITTED", "APPROVED", "REJECTED", "PAID")
INCOME = np.array([False, True, False, True])
CLAIM_RATE = 0.35  # share of eligible lines the distributor claims
VOLUME_REBATE_BP = 40  # quarter-end volume rebate on a large customer's month, basis points


def status_mix(age: int) -> list[float]:
    """Claims still open by how many months before the last month they were made."""
    if age <= 1:
        return [0.45, 0.35, 0.08, 0.12]
    if age <= 3:
        return [0.15, 0.35, 0.10, 0.40]
    return [0.03, 0.12, 0.10, 0.75]


def month_rebates(
    cal: Calendar,
    pop: Population,
    cat: Catalog,
    fx: Rates,
    sales: SalesMonth,
    m: int,
    rng: np.random.Generator,
    first_number: int,
) -> tuple[pa.Table, int]:
    """The month's claims and the rebate income (APPROVED + PAID) in LCY cents."""
    item = sales.line_item
    bp = cat.rebate_bp[item]
    eligible = (bp > 0) & np.isin(sales.line_family, [HARDWARE, SOFTWARE, CLOUD])
    lines = np.flatnonzero(eligible & (rng.random(len(item)) < CLAIM_RATE))
    net_lcy = fx.to_lcy_cents(sales.line_net[lines], sales.line_currency[lines], m)
    amount = np.maximum(col.round_half_away(net_lcy * bp[lines] / 10_000), 1)
    names_item = rng.random(len(lines)) < 0.75
    inv = sales.line_invoice[lines]
    day = cal.later_day(rng, m, sales.inv_day[inv], max_days=10)
    vendor = cat.vendor[item[lines]]
    customer = sales.line_customer[lines]

    # quarter-end volume rebates of large customers: no invoice, no item
    v_cust = np.zeros(0, dtype=np.int64)
    v_amount = np.zeros(0, dtype=np.int64)
    if cal.month_of_year[m] % 3 == 0 and len(sales.line_customer):
        lcy = fx.to_lcy_cents(sales.line_net, sales.line_currency, m)
        per_customer = np.bincount(sales.line_customer, weights=lcy, minlength=pop.n)
        v_cust = np.flatnonzero((per_customer > 0) & P.LARGE[pop.persona])
        v_amount = np.maximum(col.round_half_away(per_customer[v_cust] * VOLUME_REBATE_BP / 10_000), 1)
    programmes = np.unique(cat.vendor[cat.rebate_bp > 0])
    if len(programmes) == 0:
        v_cust, v_amount = v_cust[:0], v_amount[:0]
    v_vendor = programmes[rng.integers(0, max(len(programmes), 1), len(v_cust))]
    v_day = cal.sample_days(rng, m, len(v_cust))

    n, k = len(lines), len(v_cust)
    status = pick(rng, n + k, status_mix(len(cal) - 1 - m)).astype(np.int64)
    amounts = np.concatenate([amount, v_amount])
    has_doc = np.concatenate([np.ones(n, bool), np.zeros(k, bool)])
    table = pa.table(
        {
            "claim_no": col.ids("RC", first_number + np.arange(n + k), 8),
            "vendor_name": col.labels(cat.vendor_names, np.concatenate([vendor, v_vendor])),
            "customer_no": pop.customer_no.take(np.concatenate([customer, v_cust])),
            "item_no": pc.take(
                cat.item_no,
                pa.array(
                    np.concatenate([item[lines], np.zeros(k, np.int64)]),
                    mask=~np.concatenate([names_item, np.zeros(k, bool)]),
                ),
            ),
            "document_no": col.ids(
                "SI", np.concatenate([sales.inv_number[inv], np.zeros(k, np.int64)]), 9, valid=has_doc
            ),
            "claim_date": col.dates(np.concatenate([day, v_day])),
            "rebate_amount_lcy": col.money(amounts),
            "status": col.labels(STATUSES, status),
        }
    )
    return table, int(amounts[INCOME[status]].sum())

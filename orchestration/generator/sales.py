"""Sales lines (erp/sales_lines): invoices and credit memos, one month at a time, vectorised.

Invoices: each buying customer places a persona- and season-driven number of orders; each order is
one invoice (a few are invoiced in two shipments: two invoices, one order_no), its lines drawn from
the customer's product-family mix, priced from the list in the customer's billing currency at the
month's rate, discounted by the customer's terms. Lines of items that are not stocked are always
drop-shipped (no warehouse); stocked items are drop-shipped now and then.

Credit memos, posted in the same month as the invoice they credit: returns (DEFECTIVE, WRONG_ITEM,
NOT_NEEDED: part of the quantity, its cost back into stock) and price adjustments
(PRICE_ADJUSTMENT: a price credit on the full quantity, cost 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.calendar import Calendar
from orchestration.generator.catalog import HARDWARE, MEAN_QUANTITY, Catalog
from orchestration.generator.fx import CURRENCIES, Rates
from orchestration.generator.population import UNKNOWN_CUSTOMER, Population
from orchestration.generator.rng import categorical, pick

DOCUMENT_TYPES = ("INVOICE", "CREDIT_MEMO")
CHANNELS = ("EDI", "API", "PORTAL", "EMAIL", "PHONE")
CHANNEL_UNITS_X10 = np.array([1, 1, 3, 10, 10])  # methodology's order-entry weights × 10
REASONS = ("DEFECTIVE", "WRONG_ITEM", "NOT_NEEDED", "PRICE_ADJUSTMENT")
PRICE_ADJUSTMENT = 3
RETURN_REASON_MIX = np.array([0.35, 0.30, 0.35])
FAMILY_RETURN_FACTOR = np.array([1.0, 1.2, 0.3, 0.15, 0.1])
WAREHOUSES = ("US-ATL", "US-DAL", "US-RNO", "CA-TOR", "GB-MKY", "NL-RTM")
# warehouses serving each country (index into WAREHOUSES): US, CA, GB, DE, FR, NL, IE
COUNTRY_WAREHOUSE = [(0, 1, 2), (3,), (4,), (5,), (5,), (5,), (4,)]
SPLIT_RATE = 0.04  # orders invoiced in two shipments
LINE_NO_STEP = 10_000
MAX_LINES = 9  # lines of an invoice: line numbers 10000 … 90000 sort the same as text and as numbers
FLOAT_EXACT = 1 << 52


@dataclass
class SalesMonth:
    table: pa.Table
    # invoices
    inv_customer: np.ndarray
    inv_day: np.ndarray
    inv_number: np.ndarray
    inv_order: np.ndarray
    inv_net: np.ndarray  # Σ net_amount, cents of the customer's currency
    inv_weight_g: np.ndarray  # weight of the stocked (warehouse-shipped) goods
    inv_shipped: np.ndarray  # has at least one line shipped from a warehouse
    # invoice lines
    line_customer: np.ndarray
    line_item: np.ndarray
    line_family: np.ndarray
    line_net: np.ndarray
    line_currency: np.ndarray
    line_invoice: np.ndarray
    # for the ledger: exact integer aggregates
    net_by_family_currency: np.ndarray  # (5, currencies) invoice − credit memo net, currency cents
    cogs_by_family: np.ndarray  # (5,) LCY cents
    order_entry_units_x10: int
    warehouse_lines: int
    return_lines: int
    invoice_documents: int
    orders: int
    memos: int
    unknown: dict | None


def _sum_by(key: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.bincount(key, weights=values, minlength=size)
    if np.abs(out).max(initial=0) >= FLOAT_EXACT:
        raise OverflowError("monthly totals too large for exact sums")
    return np.rint(out).astype(np.int64)


def _section(
    kind: int,
    number_prefix: str,
    numbers,
    line_no,
    day,
    order,
    order_valid,
    customer_no,
    item_no,
    qty,
    price,
    disc,
    net,
    currency,
    cost,
    channel,
    drop,
    warehouse,
    reason,
) -> pa.Table:
    n = len(line_no)
    return pa.table(
        {
            "document_type": col.labels(DOCUMENT_TYPES, np.full(n, kind)),
            "document_no": col.ids(number_prefix, numbers, 9),
            "line_no": col.ints(line_no),
            "posting_date": col.dates(day),
            "order_no": col.ids("SO", order, 9, valid=order_valid),
            "customer_no": customer_no,
            "item_no": item_no,
            "quantity": col.money(qty, scale=0),
            "unit_price": col.money(price),
            "line_discount_amount": col.money(disc),
            "net_amount": col.money(net),
            "currency": col.labels(CURRENCIES, currency),
            "cost_amount_lcy": col.money(cost),
            "order_channel": col.labels(CHANNELS, channel),
            "is_drop_ship": col.bools(drop),
            "warehouse_code": col.labels(WAREHOUSES, warehouse, valid=~drop),
            "return_reason": col.labels(REASONS, np.maximum(reason, 0), valid=reason >= 0),
        }
    )


def month_sales(
    cal: Calendar,
    pop: Population,
    cat: Catalog,
    fx: Rates,
    m: int,
    rng: np.random.Generator,
    first_invoice: int,
    first_order: int,
    first_memo: int,
    unknown_month: int,
) -> SalesMonth:
    # --- orders -----------------------------------------------------------------------------------
    active = np.flatnonzero(pop.buying(m))
    buys = rng.random(len(active)) < pop.buy_probability[active]
    lam = pop.documents_per_month[active] * cal.season[m] * cal.trend[m]
    ndocs = np.where(buys, np.maximum(rng.poisson(lam), 1), 0)
    doc_cust = np.repeat(active, ndocs)
    doc_day = cal.sample_days(rng, m, len(doc_cust))
    order = np.lexsort((doc_cust, doc_day))  # numbered in posting order
    doc_cust, doc_day = doc_cust[order], doc_day[order]
    n_docs = len(doc_cust)
    doc_channel = categorical(rng, pop.channel_cum[doc_cust]).astype(np.int64)
    nlines = np.minimum(1 + rng.poisson(pop.extra_lines[doc_cust]), MAX_LINES)
    split = (nlines >= 2) & (rng.random(n_docs) < SPLIT_RATE)
    half = (nlines + 1) // 2
    wh_choice = rng.integers(0, 3, n_docs)
    doc_wh = np.array([COUNTRY_WAREHOUSE[c][0] for c in range(len(COUNTRY_WAREHOUSE))])[pop.country[doc_cust]]
    doc_wh = np.where(pop.country[doc_cust] == 0, wh_choice, doc_wh)

    # --- invoice lines ----------------------------------------------------------------------------
    n = int(nlines.sum())
    line_doc = np.repeat(np.arange(n_docs), nlines)
    pos = np.arange(n) - np.repeat(np.cumsum(nlines) - nlines, nlines)
    sub = split[line_doc] & (pos >= half[line_doc])
    inv_keys, line_inv = np.unique(line_doc * 2 + sub, return_inverse=True)
    n_inv = len(inv_keys)
    inv_doc, inv_sub = inv_keys // 2, inv_keys % 2 == 1
    inv_day = np.minimum(doc_day[inv_doc] + np.where(inv_sub, rng.integers(1, 6, n_inv), 0), cal.end[m])
    line_no = (pos - np.where(sub, half[line_doc], 0) + 1) * LINE_NO_STEP
    lc = doc_cust[line_doc]
    family = categorical(rng, pop.family_cum[lc]).astype(np.int64)
    item = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for f in range(5):
        sel = np.flatnonzero(family == f)
        avail = cat.available(m, f)
        item[sel] = avail[np.minimum((u[sel] ** 1.7 * len(avail)).astype(np.int64), len(avail) - 1)]
    mean_q = MEAN_QUANTITY[family] * pop.quantity_multiplier[lc]
    qty = np.minimum(rng.geometric(np.clip(1.0 / mean_q, 0.002, 1.0)), 2000).astype(np.int64)
    cur = pop.currency[lc]
    price = np.maximum(fx.to_currency(cat.list_cents[item], cur, m), 1)
    gross = qty * price
    disc_frac = pop.discount[lc] * rng.uniform(0.4, 1.6, n) * (rng.random(n) < 0.75)
    disc = np.clip(col.round_half_away(gross * disc_frac), 0, gross - 1)
    net = gross - disc
    unit_cost = cat.cost_cents[item]
    cost = qty * unit_cost
    drop = ~cat.stocked[item] | (rng.random(n) < pop.drop_ship_rate[lc])
    channel = doc_channel[line_doc]
    inv_start = np.flatnonzero(np.r_[True, np.diff(line_inv) != 0])
    inv_net = np.add.reduceat(net, inv_start) if n else np.zeros(0, np.int64)
    inv_weight = np.add.reduceat(np.where(drop, 0, qty * cat.weight_g[item]), inv_start) if n else inv_net
    inv_shipped = np.add.reduceat((~drop).astype(np.int64), inv_start) > 0 if n else inv_net > 0
    inv_number = first_invoice + np.arange(n_inv)
    order_number = first_order + np.arange(n_docs)
    line_day = inv_day[line_inv]

    # --- credit memos -----------------------------------------------------------------------------
    returned = rng.random(n) < pop.return_rate[lc] * FAMILY_RETURN_FACTOR[family]
    adjusted = ~returned & (rng.random(n) < pop.price_adjustment_rate[lc])
    src = np.flatnonzero(returned | adjusted)
    is_pa = adjusted[src]
    reason = np.where(is_pa, PRICE_ADJUSTMENT, pick(rng, len(src), RETURN_REASON_MIX))
    key = line_inv[src] * 2 + is_pa
    o = np.argsort(key, kind="stable")
    src, is_pa, reason, key = src[o], is_pa[o], reason[o], key[o]
    memo_keys, memo_of = np.unique(key, return_inverse=True)
    n_memo = len(memo_keys)
    memo_day = cal.later_day(rng, m, inv_day[memo_keys // 2])
    c_n = len(src)
    m_start = np.flatnonzero(np.r_[True, np.diff(memo_of) != 0]) if c_n else np.zeros(0, np.int64)
    m_count = np.diff(np.r_[m_start, c_n])
    c_line_no = (np.arange(c_n) - np.repeat(m_start, m_count) + 1) * LINE_NO_STEP
    q0 = qty[src]
    c_qty = np.where(is_pa, q0, 1 + np.floor(rng.random(c_n) * q0).astype(np.int64))
    c_price = np.where(
        is_pa, np.maximum(col.round_half_away(price[src] * rng.uniform(0.02, 0.10, c_n)), 1), price[src]
    )
    c_disc = np.where(is_pa, 0, (disc[src] * c_qty * 2 + q0) // (2 * q0))
    c_net = c_qty * c_price - c_disc
    c_cost = np.where(is_pa, 0, c_qty * unit_cost[src])
    c_order_valid = rng.random(c_n) < 0.15
    c_cust = lc[src]

    invoices = _section(
        0,
        "SI",
        inv_number[line_inv],
        line_no,
        line_day,
        order_number[line_doc],
        np.ones(n, bool),
        pop.customer_no.take(lc),
        cat.item_no.take(item),
        qty,
        price,
        disc,
        net,
        cur,
        cost,
        channel,
        drop,
        doc_wh[line_doc],
        np.full(n, -1),
    )
    memos = _section(
        1,
        "CM",
        first_memo + memo_of,
        c_line_no,
        memo_day[memo_of],
        order_number[line_doc[src]],
        c_order_valid,
        pop.customer_no.take(c_cust),
        cat.item_no.take(item[src]),
        c_qty,
        c_price,
        c_disc,
        c_net,
        cur[src],
        c_cost,
        channel[src],
        drop[src],
        doc_wh[line_doc[src]],
        reason,
    )
    parts = [memos, invoices]  # in key order: CM… before SI…

    # --- ledger aggregates -------------------------------------------------------------------------
    ncur = len(CURRENCIES)
    by = _sum_by(family * ncur + cur, net, 5 * ncur) - _sum_by(family[src] * ncur + cur[src], c_net, 5 * ncur)
    cogs = _sum_by(family, cost, 5) - _sum_by(family[src], c_cost, 5)

    unknown = None
    if m == unknown_month:  # a document for a customer number that is in no customer snapshot
        stocked_hw = np.flatnonzero((cat.family == HARDWARE) & cat.stocked & (cat.intro <= m))[:2]
        k = len(stocked_hw)
        u_qty = np.array([2, 1])[:k]
        u_price = cat.list_cents[stocked_hw]
        u_net = u_qty * u_price
        u_cost = u_qty * cat.cost_cents[stocked_hw]
        u_number = first_invoice + n_inv
        u_day = np.full(k, cal.start[m] + 9)
        parts.append(
            _section(
                0,
                "SI",
                np.full(k, u_number),
                (np.arange(k) + 1) * LINE_NO_STEP,
                u_day,
                np.full(k, first_order + n_docs),
                np.ones(k, bool),
                col.constant(UNKNOWN_CUSTOMER, k),
                cat.item_no.take(stocked_hw),
                u_qty,
                u_price,
                np.zeros(k, np.int64),
                u_net,
                np.zeros(k, np.int64),
                u_cost,
                np.full(k, 3),
                np.zeros(k, bool),
                np.zeros(k, np.int64),
                np.full(k, -1),
            )
        )
        by[HARDWARE * ncur + 0] += int(u_net.sum())
        cogs[HARDWARE] += int(u_cost.sum())
        unknown = {
            "customer_no": UNKNOWN_CUSTOMER,
            "month": cal.months[m],
            "document_no": f"SI{u_number:09d}",
            "lines": k,
            "net_amount_lcy": f"{int(u_net.sum()) // 100}.{int(u_net.sum()) % 100:02d}",
        }
        n_inv += 1
        n_docs += 1

    table = pa.concat_tables(parts)
    return SalesMonth(
        table=table,
        inv_customer=doc_cust[inv_doc],
        inv_day=inv_day,
        inv_number=inv_number,
        inv_order=order_number[inv_doc],
        inv_net=inv_net,
        inv_weight_g=inv_weight,
        inv_shipped=inv_shipped,
        line_customer=lc,
        line_item=item,
        line_family=family,
        line_net=net,
        line_currency=cur,
        line_invoice=line_inv,
        net_by_family_currency=by.reshape(5, ncur),
        cogs_by_family=cogs,
        order_entry_units_x10=int(CHANNEL_UNITS_X10[channel].sum()),
        warehouse_lines=int((~drop).sum()),
        return_lines=int((~is_pa).sum()),
        invoice_documents=n_inv,
        orders=n_docs,
        memos=n_memo,
        unknown=unknown,
    )

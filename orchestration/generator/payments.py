"""Customer payments (erp/payments), delivered in the month they are received.

Each invoice is paid in full in its billing currency: most on or before the due date (posting date
plus the customer's payment terms), some late by a persona-driven number of days. Payments received
the same day from the same customer share one `payment_no` (the key is payment_no + document_no).
A few payments each month are for invoices older than the data (their document_no is unknown).
Payments due after the last month are not delivered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.calendar import Calendar
from orchestration.generator.fx import CURRENCIES, Rates
from orchestration.generator.population import Population
from orchestration.generator.sales import SalesMonth

FIELDS = ("customer", "document", "due", "paid", "amount", "currency", "known")
LEGACY_DOCUMENTS = (100_000, 999_999)  # invoice numbers from before the data (SI000100000 …)
UNKNOWN_DOCUMENT_RATE = 0.002


@dataclass
class PaymentsMonth:
    table: pa.Table
    rows: int
    late_rows: int
    payments: int  # distinct payment numbers


class Receivables:
    """Invoices waiting to be paid, by the month their payment arrives."""

    def __init__(self) -> None:
        self.pending: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)

    def invoice(self, cal: Calendar, pop: Population, sales: SalesMonth, rng: np.random.Generator) -> None:
        cust = sales.inv_customer
        n = len(cust)
        terms = pop.terms[cust]
        due = sales.inv_day + terms
        late = rng.random(n) < pop.late_rate[cust]
        days_late = 1 + rng.geometric(np.clip(1 / np.maximum(pop.mean_days_late[cust], 1), 0.01, 1))
        early = np.floor(rng.random(n) * np.minimum(10, terms - 1)).astype(np.int64)
        paid = np.where(late, due + days_late, np.maximum(due - early, sales.inv_day + 1))
        month = cal.month_index(paid)
        for target in np.unique(month):
            if target >= len(cal):
                continue
            sel = month == target
            self.pending[int(target)].append(
                {
                    "customer": cust[sel],
                    "document": sales.inv_number[sel],
                    "due": due[sel],
                    "paid": paid[sel],
                    "amount": sales.inv_net[sel],
                    "currency": pop.currency[cust[sel]],
                    "known": np.ones(sel.sum(), bool),
                }
            )

    def deliver(
        self, cal: Calendar, pop: Population, fx: Rates, m: int, rng: np.random.Generator, first_number: int
    ) -> PaymentsMonth:
        parts = self.pending.pop(m, [])
        # payments for invoices older than the data
        existing = np.flatnonzero(pop.exists(cal, m) & (pop.join == 0))
        count = sum(len(p["customer"]) for p in parts)
        k = (1 + rng.poisson(UNKNOWN_DOCUMENT_RATE * count)) if len(existing) else 0
        cust = existing[rng.integers(0, max(len(existing), 1), k)]
        paid = cal.sample_days(rng, m, k)
        currency = pop.currency[cust]
        amount = fx.to_currency(col.round_half_away(rng.lognormal(7.5, 1.0, k) * 100), currency, m)
        parts.append(
            {
                "customer": cust,
                "document": rng.integers(*LEGACY_DOCUMENTS, k),
                "due": paid - rng.integers(-10, 40, k),
                "paid": paid,
                "amount": np.maximum(amount, 100),
                "currency": currency,
                "known": np.zeros(k, bool),
            }
        )
        d = {f: np.concatenate([p[f] for p in parts]) for f in FIELDS}
        # one payment per customer and day for known invoices; each unknown one is paid on its own
        solo = np.where(d["known"], -1, np.arange(len(d["customer"])))
        order = np.lexsort((d["document"], solo, d["customer"], d["paid"]))
        d = {f: v[order] for f, v in d.items()}
        solo = solo[order]
        n = len(order)
        new = np.ones(n, dtype=bool)
        if n:
            new[1:] = (
                (d["paid"][1:] != d["paid"][:-1])
                | (d["customer"][1:] != d["customer"][:-1])
                | (solo[1:] != solo[:-1])
                | (solo[1:] >= 0)
            )
        payment = first_number + np.cumsum(new) - 1
        table = pa.table(
            {
                "payment_no": col.ids("PY", payment, 9),
                "customer_no": pop.customer_no.take(d["customer"]),
                "document_no": col.ids("SI", d["document"], 9),
                "due_date": col.dates(d["due"]),
                "payment_date": col.dates(d["paid"]),
                "amount": col.money(d["amount"]),
                "currency": col.labels(CURRENCIES, d["currency"]),
            }
        )
        return PaymentsMonth(
            table=table, rows=n, late_rows=int((d["paid"] > d["due"]).sum()), payments=int(new.sum())
        )

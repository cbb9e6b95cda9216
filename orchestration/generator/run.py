"""`generate()`: write a whole sample landing folder, month by month, in bounded memory.

Each month is generated and written before the next one starts; only the population, the catalogue,
the CRM accounts, the PSA companies and a few queues of future events (payments not yet received,
opportunity versions not yet made) are kept between months. Every random draw comes from a stream
named by entity and month (rng.py), so the same arguments give byte-identical files.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from assets.core.contract import SYSTEMS, entities
from orchestration.generator import personas as P
from orchestration.generator.accounts import Accounts
from orchestration.generator.activities import month_activities
from orchestration.generator.calendar import Calendar, last_complete_month
from orchestration.generator.catalog import Catalog
from orchestration.generator.companies import Companies
from orchestration.generator.fx import CURRENCIES, LCY, Rates
from orchestration.generator.ledger import PLANTED_ACCOUNT, Drivers, Postings, month_ledger
from orchestration.generator.opportunities import Pipeline
from orchestration.generator.payments import Receivables
from orchestration.generator.population import Population
from orchestration.generator.rebates import month_rebates
from orchestration.generator.rng import stream
from orchestration.generator.sales import month_sales
from orchestration.generator.service_desk import month_desk
from orchestration.generator.shipments import month_shipments
from orchestration.generator.summary import GenerationSummary, PlantedDifference, UnknownCustomerRows
from orchestration.generator.surveys import month_responses
from orchestration.generator.writer import BackgroundWriter

FORMATS = ("csv", "parquet")
Progress = Callable[[str, int, int], None]


def planted_month_index(months: int) -> int:
    """The month of the planted manual journal: two thirds into the period."""
    return (2 * months) // 3


def unknown_customer_month_index(months: int) -> int:
    return months // 2


@dataclass
class _Counters:
    """The next document number of each kind: numbers never repeat across months."""

    invoice: int = 1_000_001  # SI001000001
    order: int = 2_000_001  # SO002000001
    memo: int = 300_001  # CM000300001
    shipment: int = 4_000_001  # SH004000001
    claim: int = 1_000  # RC00001000
    payment: int = 5_000_001  # PY005000001
    activity: int = 0
    response: int = 10_001  # SR00010001
    ticket: int = 0
    entry: int = 0


def _prepare(out: Path) -> None:
    """Make `out` ready: a folder this generator wrote before is cleared, anything else is refused."""
    out.mkdir(parents=True, exist_ok=True)
    ours = (out / "_generator.json").exists()
    systems = [out / s for s in SYSTEMS if (out / s).exists()]
    if systems and not ours:
        raise FileExistsError(
            f"{out} already holds extracts that the generator did not write; choose an empty folder"
        )
    for folder in systems:
        shutil.rmtree(folder)
    for name in ("_generator.json", "_personas.csv"):
        (out / name).unlink(missing_ok=True)


def generate(
    out: Path,
    customers: int = 300,
    months: int = 36,
    end_month: str | None = None,
    seed: int = 7,
    fmt: str = "csv",
    progress: Progress | None = None,
) -> GenerationSummary:
    """Write a deterministic sample landing folder at `out` (see docs/generator.md).

    `end_month` ("YYYY-MM") is the last batch; None means the last complete month before today.
    `progress(stage, done, total)` is called as months are written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use csv or parquet")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative integer")
    out = Path(out)
    end = end_month or last_complete_month()
    cal = Calendar.build(months, end)
    pop = Population.build(cal, customers, seed)
    cat = Catalog.build(cal, customers, seed)
    fx = Rates.build(cal, seed)
    acc = Accounts.build(cal, pop, seed)
    comp = Companies.build(cal, pop, acc, fx, seed)
    _prepare(out)

    n = len(cal)
    planted_m = planted_month_index(n)
    planted_cents = int(stream(seed, "planted").integers(250_000, 750_000))
    unknown_m = unknown_customer_month_index(n)
    summary = GenerationSummary(
        landing_root=out,
        months=list(cal.months),
        customers=customers,
        seed=seed,
        fmt=fmt,
        lcy=LCY,
        currencies=list(CURRENCIES),
        personas={name: int((pop.persona == i).sum()) for i, name in enumerate(P.PERSONAS)},
    )
    summary.rows = {f"{s}/{e}": 0 for (s, e) in entities()}
    summary.planted_differences.append(
        PlantedDifference(
            month=cal.months[planted_m],
            line_item="REVENUE",
            account_code=PLANTED_ACCOUNT[0],
            account_name=PLANTED_ACCOUNT[1],
            amount_lcy=Decimal(planted_cents).scaleb(-2),
        )
    )
    write = BackgroundWriter(out, fmt, cal, summary)
    k = _Counters()
    receivables, pipeline = Receivables(), Pipeline()
    try:
        for m in range(n):
            if progress:
                progress(f"generating {cal.months[m]}", m, n)
            # snapshots: each table as it stood at the month end
            write("erp", "customers", m, pop.snapshot(cal, m))
            write("erp", "items", m, cat.snapshot(m))
            write("crm", "accounts", m, acc.snapshot(cal, pop, m))
            write("psa", "companies", m, comp.snapshot(cal, pop, acc, m))
            write("psa", "agreements", m, comp.agreements_snapshot(cal, m))
            write("erp", "fx_rates", m, fx.table(cal, m))

            sales = month_sales(
                cal, pop, cat, fx, m, stream(seed, "sales", m), k.invoice, k.order, k.memo, unknown_m
            )
            k.invoice += sales.invoice_documents
            k.order += sales.orders
            k.memo += sales.memos
            write("erp", "sales_lines", m, sales.table)
            if sales.unknown:
                u = sales.unknown
                summary.unknown_customer_rows.append(
                    UnknownCustomerRows(
                        customer_no=u["customer_no"],
                        month=u["month"],
                        document_no=u["document_no"],
                        lines=u["lines"],
                        net_amount_lcy=Decimal(u["net_amount_lcy"]),
                    )
                )

            shipments, freight_cost, freight_charged = month_shipments(
                pop, sales, stream(seed, "shipments", m), k.shipment
            )
            k.shipment += shipments.num_rows
            write("erp", "shipments", m, shipments)

            claims, rebate_income = month_rebates(
                cal, pop, cat, fx, sales, m, stream(seed, "rebates", m), k.claim
            )
            k.claim += claims.num_rows
            write("erp", "rebate_claims", m, claims)

            receivables.invoice(cal, pop, sales, stream(seed, "payment-terms", m))
            pay = receivables.deliver(cal, pop, fx, m, stream(seed, "payments", m), k.payment)
            k.payment += pay.payments
            write("erp", "payments", m, pay.table)

            pipeline.create(cal, pop, acc, fx, m, stream(seed, "opportunities", m))
            write("crm", "opportunities", m, pipeline.deliver(acc, m))
            activities = month_activities(cal, pop, acc, m, stream(seed, "activities", m), k.activity)
            k.activity += activities.num_rows
            write("crm", "activities", m, activities)
            responses, answers = month_responses(cal, pop, acc, m, stream(seed, "surveys", m), k.response)
            k.response += responses
            write("crm", "survey_responses", m, answers)

            desk = month_desk(cal, pop, comp, fx, m, stream(seed, "service-desk", m), k.ticket, k.entry)
            k.ticket += desk.ticket_count
            k.entry += desk.entry_count
            write("psa", "tickets", m, desk.tickets)
            write("psa", "time_entries", m, desk.time_entries)

            postings = Postings(
                net_by_family_currency=sales.net_by_family_currency,
                cogs_by_family=sales.cogs_by_family,
                rebate_income_cents=rebate_income,
                services_cost_e4=desk.billable_cost_e4,
                freight_cost_cents=freight_cost,
                freight_charged_cents=freight_charged,
            )
            drivers = Drivers(
                order_entry_units_x10=sales.order_entry_units_x10,
                warehouse_lines=sales.warehouse_lines,
                return_lines=sales.return_lines,
                activity_minutes=int(np.asarray(activities.column("duration_minutes")).sum()),
                non_billable_hundredths=desk.non_billable_hundredths,
                invoice_documents=sales.invoice_documents,
                late_payments=pay.late_rows,
            )
            gl = month_ledger(
                cal,
                fx,
                m,
                postings,
                drivers,
                customers,
                stream(seed, "ledger", m),
                planted_cents if m == planted_m else None,
            )
            write("erp", "gl_balances", m, gl)

    except BaseException:
        write.abandon()
        raise
    write.close()
    if progress:
        progress("written", n, n)

    _write_personas(out, pop)
    summary.write({"customers": customers, "months": months, "end_month": end, "seed": seed, "fmt": fmt})
    return summary


def _write_personas(out: Path, pop: Population) -> None:
    """`<out>/_personas.csv`: each customer's persona (ignored by the loader: its name starts with _)."""
    t = pop.persona_table()
    with open(out / "_personas.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(t.column_names)
        w.writerows(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True))

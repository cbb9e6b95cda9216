"""PSA tickets (psa/tickets) and time entries (psa/time_entries).

Tickets follow the company's persona (high-service and small costly buyers call the help desk a
lot; mature customers' monitoring raises tickets automatically). Help-desk, RMA, order-status and
pre-sales work is mostly not billable (it is the SUPPORT_DESK cost pool); project work is billable
at an hourly rate in the agreement's currency and costs `hourly_cost_lcy` (services cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.calendar import SECONDS_PER_DAY, Calendar
from orchestration.generator.companies import NEVER, Companies
from orchestration.generator.fx import Rates
from orchestration.generator.population import Population
from orchestration.generator.rng import categorical, cumulative, pick

BOARDS = ("HELPDESK", "PRE_SALES", "RMA", "ORDER_STATUS", "PROJECTS")
HELPDESK, PRE_SALES, RMA, ORDER_STATUS, PROJECTS = range(5)
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_MIX = np.array([0.05, 0.20, 0.55, 0.20])
SLA_HOURS = np.array([4.0, 8.0, 24.0, 72.0])
RESOLUTION_MEDIAN_HOURS = np.array([3.0, 7.0, 18.0, 50.0])
SOURCES = ("PHONE", "EMAIL", "PORTAL", "MONITORING")
ROLES = ("HELPDESK", "ENGINEER", "ARCHITECT", "PROJECT_MANAGER")
HOURLY_COST_CENTS = np.array([3850, 6175, 8400, 7225])  # what an hour of each role costs, in LCY
HOURLY_RATE_CENTS = np.array([9500, 15000, 19500, 16500])  # list rate in LCY, billed in the currency
EXTRA_ENTRIES = np.array([0.4, 0.3, 0.2, 0.1, 1.5])  # time entries per ticket = 1 + Poisson(this), by board
BILLABLE_RATE = np.array([0.08, 0.0, 0.0, 0.0, 0.9])  # by board
ROLE_BY_BOARD = cumulative(
    np.array(
        [
            [0.90, 0.10, 0.00, 0.00],
            [0.00, 0.20, 0.80, 0.00],
            [0.85, 0.15, 0.00, 0.00],
            [1.00, 0.00, 0.00, 0.00],
            [0.00, 0.55, 0.25, 0.20],
        ]
    )
)
TICKET_ID_BASE = 500_000
TIME_ENTRY_ID_BASE = 2_000_000


@dataclass
class DeskMonth:
    tickets: pa.Table
    time_entries: pa.Table
    ticket_count: int
    entry_count: int
    billable_cost_e4: int  # Σ hours × hourly_cost_lcy of billable entries, in 1/10000 LCY (exact)
    non_billable_hundredths: int  # Σ hours of non-billable entries, in 1/100 hour


def month_desk(
    cal: Calendar,
    pop: Population,
    comp: Companies,
    fx: Rates,
    m: int,
    rng: np.random.Generator,
    first_ticket: int,
    first_entry: int,
) -> DeskMonth:
    active = np.flatnonzero(comp.exists(m) & ~comp.inactive(pop, m))
    c = np.maximum(comp.customer[active], 0)
    known = comp.customer[active] >= 0
    persona = comp.persona[active]
    lam = np.where(known, P.TICKETS_PER_MONTH[persona] * np.sqrt(np.where(known, pop.size[c], 1.0)), 1.0)
    count = rng.poisson(lam)
    company = np.repeat(active, count)
    n = len(company)
    cc = np.maximum(comp.customer[company], 0)
    kn = comp.customer[company] >= 0
    cpersona = comp.persona[company]
    board = categorical(rng, cumulative(P.BOARD_MIX[cpersona])).astype(np.int64)
    priority = pick(rng, n, PRIORITY_MIX).astype(np.int64)
    standardization = np.where(kn, pop.maturity[cc, 3], 0.3)
    digital = np.where(kn, pop.maturity[cc, 1], 0.3)
    monitoring = (board == HELPDESK) & (rng.random(n) < 0.75 * standardization)
    manual = rng.random(n) < 1 - digital
    source = np.where(monitoring, 3, np.where(manual, np.where(rng.random(n) < 0.55, 0, 1), 2))
    day = cal.sample_days(rng, m, n)
    created = day * SECONDS_PER_DAY + rng.integers(7 * 3600, 19 * 3600, n)
    resolution_hours = RESOLUTION_MEDIAN_HOURS[priority] * rng.lognormal(0, 0.9, n)
    closed = created + (resolution_hours * 3600).astype(np.int64)
    is_closed = (closed <= cal.extraction_second(m)) & (rng.random(n) > 0.02)
    sla_met = resolution_hours <= SLA_HOURS[priority]
    # the company's agreement in force on the ticket's day, when the ticket is covered by one
    first_agreement = np.full(len(comp), -1, dtype=np.int64)
    owners, first = np.unique(comp.agreement_company, return_index=True)
    first_agreement[owners] = first
    fa = first_agreement[company]
    has = fa >= 0
    a = np.maximum(fa, 0)
    cancel_day = np.where(
        comp.agreement_cancel[a] < NEVER,
        cal.start[np.clip(comp.agreement_cancel[a], 0, len(cal) - 1)] - 1,
        NEVER,
    )
    in_force = has & (comp.agreement_start[a] <= day) & (day <= np.minimum(comp.agreement_end[a], cancel_day))
    covered = in_force & (rng.random(n) < 0.85)
    agreement = np.where(covered, comp.agreement_id[a], -1)
    ticket_id = TICKET_ID_BASE + first_ticket + np.arange(n)
    tickets = pa.table(
        {
            "ticket_id": col.ints(ticket_id),
            "company_id": col.ints(comp.company_id[company]),
            "agreement_id": col.ints(agreement, valid=agreement >= 0),
            "board": col.labels(BOARDS, board),
            "priority": col.labels(PRIORITIES, priority),
            "source": col.labels(SOURCES, source),
            "created_at": col.timestamps(created),
            "closed_at": col.timestamps(closed, valid=is_closed),
            "sla_met": col.bools(sla_met, valid=is_closed),
        }
    )

    # time on tickets
    per_ticket = 1 + rng.poisson(EXTRA_ENTRIES[board])
    t = np.repeat(np.arange(n), per_ticket)
    e_board = board[t]
    e_company = company[t]
    e_role = categorical(rng, ROLE_BY_BOARD[e_board]).astype(np.int64)
    e_billable = rng.random(len(t)) < BILLABLE_RATE[e_board]
    e_day = cal.later_day(rng, m, day[t], max_days=3)
    helpdesk_mean = P.HELPDESK_HOURS[comp.persona[e_company]]
    quarters = np.where(
        e_board == PROJECTS,
        4 + rng.integers(0, 29, len(t)),
        1 + rng.poisson(np.maximum(helpdesk_mean * 4 - 1, 0.1)),
    )
    # project time not tied to a ticket
    pc_lam = np.where(
        known, P.PROJECT_ENTRIES_PER_MONTH[persona] * np.sqrt(np.where(known, pop.size[c], 1.0)), 0.2
    )
    p_count = rng.poisson(pc_lam)
    p_company = np.repeat(active, p_count)
    k = len(p_company)
    p_role = pick(rng, k, [0.0, 0.55, 0.2, 0.25]).astype(np.int64)
    p_billable = rng.random(k) < 0.95
    p_day = cal.sample_days(rng, m, k)
    p_quarters = 8 + rng.integers(0, 25, k)

    ticket_of = np.concatenate([ticket_id[t], np.full(k, -1)])
    company_all = np.concatenate([e_company, p_company])
    role = np.concatenate([e_role, p_role])
    billable = np.concatenate([e_billable, p_billable])
    work_day = np.concatenate([e_day, p_day])
    quarters = np.minimum(np.concatenate([quarters, p_quarters]), 96)  # at most 24 hours
    hundredths = quarters * 25
    cost = HOURLY_COST_CENTS[role] + 25 * (cal.year[m] - cal.year[0])  # a yearly raise
    currency = comp.currency[company_all]
    rate = fx.to_currency(HOURLY_RATE_CENTS[role], currency, m)
    rate = col.round_half_away(rate / 100) * 100  # whole currency units
    entries = len(company_all)
    entry_id = TIME_ENTRY_ID_BASE + first_entry + np.arange(entries)
    time_entries = pa.table(
        {
            "time_entry_id": col.ints(entry_id),
            "company_id": col.ints(comp.company_id[company_all]),
            "ticket_id": col.ints(ticket_of, valid=ticket_of >= 0),
            "member_role": col.labels(ROLES, role),
            "work_date": col.dates(work_day),
            "hours": col.money(hundredths),
            "billable": col.bools(billable),
            "hourly_cost_lcy": col.money(cost),
            "hourly_rate": col.money(rate, valid=billable),
        }
    )
    billable_cost = int((hundredths[billable] * cost[billable]).sum())
    return DeskMonth(
        tickets=tickets,
        time_entries=time_entries,
        ticket_count=n,
        entry_count=entries,
        billable_cost_e4=billable_cost,
        non_billable_hundredths=int(hundredths[~billable].sum()),
    )

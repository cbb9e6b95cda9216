"""PSA companies (psa/companies) and service agreements (psa/agreements).

The PSA keeps its own company records, with integer ids. Its crosswalk is incomplete, exactly in the
ways methodology §2 resolves:
- FULL: `erp_customer_no` and `crm_account_id` both set;
- ERP_ONLY: only `erp_customer_no`;
- CRM_ONLY: only `crm_account_id` (the customer is found through the CRM account);
- STALE_ERP: an `erp_customer_no` from an old numbering ("L…", no such customer) and a good
  `crm_account_id` (found through the CRM account);
- UNMAPPED: companies with no usable crosswalk (internal IT, a prospect's account, a soft-deleted
  account, or nothing at all): their work belongs to UNASSIGNED.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.accounts import DUPLICATE, PROSPECT, Accounts
from orchestration.generator.calendar import Calendar
from orchestration.generator.fx import CURRENCIES, Rates
from orchestration.generator.population import FIRST, SECOND, STATUS_LAG, Population
from orchestration.generator.rng import categorical, cumulative, pick, quota, stream

FULL, ERP_ONLY, CRM_ONLY, STALE_ERP, UNMAPPED = range(5)
MODES = ("FULL", "ERP_ONLY", "CRM_ONLY", "STALE_ERP", "UNMAPPED")
COMPANY_STATUSES = ("ACTIVE", "INACTIVE")
AGREEMENT_TYPES = ("MANAGED_SERVICES", "BLOCK_HOURS", "WARRANTY_SUPPORT", "PROJECT")
MANAGED, BLOCK, WARRANTY, PROJECT = range(4)
AGREEMENT_STATUSES = ("ACTIVE", "EXPIRED", "CANCELLED")
TERM_DAYS = np.array([0, 365, 1095, 150])  # 0: open-ended
MONTHLY_FEE = np.array([1800.0, 900.0, 250.0, 3000.0])  # LCY, typical
NEVER = 1 << 40


@dataclass(frozen=True)
class Companies:
    company_id: np.ndarray
    customer: np.ndarray  # the customer the company really is (-1: none)
    mode: np.ndarray
    account: np.ndarray  # CRM account index in crm_account_id, -1 for none
    identifier: pa.Array
    name: pa.Array
    created_month: np.ndarray
    persona: np.ndarray
    currency: np.ndarray
    # agreements
    agreement_id: np.ndarray
    agreement_company: np.ndarray  # index into the companies
    agreement_type: np.ndarray
    agreement_start: np.ndarray  # epoch day
    agreement_end: np.ndarray  # epoch day, NEVER for open-ended
    agreement_cancel: np.ndarray  # month index from which it is cancelled (NEVER: not)
    agreement_fee: np.ndarray  # monthly fee in cents of the company's currency

    @classmethod
    def build(cls, cal: Calendar, pop: Population, acc: Accounts, fx: Rates, seed: int) -> Companies:
        rng = stream(seed, "companies")
        n, months = pop.n, len(cal)
        primary = acc.primary_of(pop)
        has = rng.random(n) < P.HAS_PSA_COMPANY[pop.persona]
        cust = np.flatnonzero(has)
        mode = np.full(len(cust), FULL)
        steady = np.flatnonzero(pop.join[cust] == 0)
        small = n >= 10
        crm_only = quota(rng, steady, 0.10, minimum=1 if small else 0)
        rest = np.setdiff1d(steady, crm_only)
        stale = quota(rng, rest, 0.02, minimum=1 if small else 0)
        rest = np.setdiff1d(rest, stale)
        erp_only = quota(rng, rest, 0.10, minimum=0)
        mode[crm_only], mode[stale], mode[erp_only] = CRM_ONLY, STALE_ERP, ERP_ONLY
        account = np.where(mode == ERP_ONLY, -1, primary[cust])

        # companies that resolve to no customer
        extra = max(3, n // 60) if small else 1
        prospects = np.flatnonzero(acc.kind == PROSPECT)
        deleted = np.flatnonzero(acc.kind == DUPLICATE)
        extra_account = np.full(extra, -1)
        if len(prospects):
            extra_account[1 % extra] = prospects[0]
        if len(deleted) and extra >= 3:
            extra_account[2] = deleted[0]

        customer = np.concatenate([cust, np.full(extra, -1)])
        mode = np.concatenate([mode, np.full(extra, UNMAPPED)])
        account = np.concatenate([account, extra_account])
        total = len(customer)
        known = customer >= 0
        c = np.maximum(customer, 0)
        created_month = np.where(known, np.where(pop.join[c] > 0, pop.join[c], -1), -1)
        later = known & (pop.join[c] == 0) & (rng.random(total) < 0.2) & (months > 1)
        created_month = np.where(later, rng.integers(0, months, total), created_month)
        persona = np.where(known, pop.persona[c], P.SMALL_SPORADIC)
        currency = np.where(known, pop.currency[c], 0)
        names, identifiers = [], []
        for i in range(total):
            if known[i]:
                base = pop.short_name[c[i]]
            elif i == len(cust):
                base = "Internal IT"
            else:
                base = f"{FIRST[(i * 7) % len(FIRST)]} {SECOND[(i * 3) % len(SECOND)]} Services"
            names.append(base)
        company_id = 250 + np.arange(total) * 3
        for i in range(total):
            word = "".join(ch for ch in names[i].title() if ch.isascii() and ch.isalnum())[:18]
            identifiers.append(f"{word}{company_id[i]}")

        # agreements: 0..2 per company
        count = pick(rng, total, [0.05, 0.70, 0.25]).astype(np.int64)
        owner = np.repeat(np.arange(total), count)
        k = len(owner)
        atype = categorical(rng, cumulative(P.AGREEMENT_MIX[persona[owner]])).astype(np.int64)
        start_month = created_month[owner]
        first_day = np.where(
            start_month >= 0,
            cal.start[np.clip(start_month, 0, months - 1)],
            cal.start[0] - rng.integers(1, 720, k),
        )
        start = (
            first_day
            + rng.integers(0, 28, k)
            + np.where(rng.random(k) < 0.3, rng.integers(0, 28 * months, k), 0)
        )
        oc = c[owner]
        churned = known[owner] & (pop.churn[oc] < months)
        start = np.minimum(
            start, np.where(churned, cal.start[np.minimum(pop.churn[oc], months - 1)] - 1, int(cal.end[-1]))
        )
        end = np.where(TERM_DAYS[atype] > 0, start + TERM_DAYS[atype] + rng.integers(0, 60, k), NEVER)
        cancel = np.where(
            churned & (end > cal.start[np.minimum(pop.churn[oc], months - 1)]), pop.churn[oc] + 1, NEVER
        )
        size = np.where(known[owner], pop.size[oc], 1.0)
        fee_lcy = MONTHLY_FEE[atype] * np.sqrt(size) * rng.lognormal(0, 0.3, k)
        fee = fx.to_currency(col.round_half_away(fee_lcy) * 100, currency[owner], 0)
        return cls(
            company_id=company_id,
            customer=customer,
            mode=mode,
            account=account,
            identifier=pa.array(identifiers, pa.string()),
            name=pa.array(names, pa.string()),
            created_month=created_month,
            persona=persona,
            currency=currency,
            agreement_id=9_000 + np.arange(k) * 2,
            agreement_company=owner,
            agreement_type=atype,
            agreement_start=start,
            agreement_end=end,
            agreement_cancel=cancel,
            agreement_fee=fee,
        )

    def __len__(self) -> int:
        return len(self.customer)

    def exists(self, m: int) -> np.ndarray:
        return self.created_month <= m

    def inactive(self, pop: Population, m: int) -> np.ndarray:
        c = np.maximum(self.customer, 0)
        return (self.customer >= 0) & (m >= pop.churn[c] + STATUS_LAG)

    def snapshot(self, cal: Calendar, pop: Population, acc: Accounts, m: int) -> pa.Table:
        keep = np.flatnonzero(self.exists(m))
        mode, cust, account = self.mode[keep], self.customer[keep], self.account[keep]
        erp = pop.customer_no.take(pa.array(np.maximum(cust, 0), mask=~np.isin(mode, [FULL, ERP_ONLY])))
        stale = col.ids("L", np.maximum(cust, 0) + 1, 6)
        erp = pc.if_else(pa.array(mode == STALE_ERP), stale, erp)
        return pa.table(
            {
                "company_id": col.ints(self.company_id[keep]),
                "company_identifier": self.identifier.take(keep),
                "company_name": self.name.take(keep),
                "crm_account_id": acc.account_id.take(pa.array(np.maximum(account, 0), mask=account < 0)),
                "erp_customer_no": erp,
                "status": col.labels(COMPANY_STATUSES, self.inactive(pop, m)[keep].astype(np.int64)),
            }
        )

    def agreements_snapshot(self, cal: Calendar, m: int) -> pa.Table:
        month_end = int(cal.end[m])
        keep = np.flatnonzero((self.agreement_start <= month_end) & self.exists(m)[self.agreement_company])
        start, end = self.agreement_start[keep], self.agreement_end[keep]
        cancel = self.agreement_cancel[keep]
        cancelled = cancel <= m
        cancel_day = cal.start[np.clip(cancel, 0, len(cal) - 1)] - 1
        end = np.where(cancelled, np.minimum(end, np.maximum(cancel_day, start)), end)
        status = np.where(cancelled, 2, np.where(end < month_end, 1, 0))
        owner = self.agreement_company[keep]
        return pa.table(
            {
                "agreement_id": col.ints(self.agreement_id[keep]),
                "company_id": col.ints(self.company_id[owner]),
                "agreement_type": col.labels(AGREEMENT_TYPES, self.agreement_type[keep]),
                "start_date": col.dates(start),
                "end_date": col.dates(np.where(end == NEVER, 0, end), valid=end != NEVER),
                "monthly_fee": col.money(self.agreement_fee[keep]),
                "currency": col.labels(CURRENCIES, self.currency[owner]),
                "status": col.labels(AGREEMENT_STATUSES, status),
            }
        )

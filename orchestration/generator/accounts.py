"""CRM accounts (crm/accounts) and the crosswalk gaps methodology §2 is written for.

- every customer has a primary account whose `erp_customer_no` names it; a customer that joins
  during the period was a prospect first (its account exists, unmapped, until the join month);
- some customers have a second account (a division or region) pointing at the same customer;
- some customers have a duplicate account that was soft-deleted during the period (it still names
  the customer: ignoring `is_deleted` would double count it);
- prospects: accounts that never become customers (`erp_customer_no` empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.calendar import Calendar
from orchestration.generator.population import FIRST, INDUSTRIES, SECOND, STATUS_LAG, Population
from orchestration.generator.rng import quota, stream

PRIMARY, SECONDARY, DUPLICATE, PROSPECT = range(4)
OWNER_ROLES = ("ACCOUNT_MANAGER", "INSIDE_SALES", "PARTNER_MANAGER")
DIVISIONS = [" - EMEA", " - Public Sector", " - Services Division", " - West", " (Branch)"]
NEVER = 1 << 40


@dataclass(frozen=True)
class Accounts:
    account_id: pa.Array
    kind: np.ndarray
    customer: np.ndarray  # customer index, -1 for prospects
    name: pa.Array
    created_day: np.ndarray
    mapped_from: np.ndarray  # month index from which erp_customer_no is filled (NEVER: prospects)
    deleted_from: np.ndarray  # month index from which is_deleted is true (NEVER: not deleted)
    owner_role: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    activity_factor: np.ndarray  # how much CRM activity the account sees, relative to its customer's
    persona: np.ndarray  # the customer's persona (prospects behave like small sporadic buyers)

    @classmethod
    def build(cls, cal: Calendar, pop: Population, seed: int) -> Accounts:
        rng = stream(seed, "accounts")
        n, months = pop.n, len(cal)
        start = int(cal.start[0])
        cust = np.arange(n)
        steady = np.flatnonzero(pop.join == 0)
        secondary = quota(rng, steady, 0.08, minimum=1 if n >= 10 else 0)
        duplicate = quota(rng, np.setdiff1d(steady, secondary), 0.04, minimum=1 if n >= 10 else 0)
        prospects = max(2, n // 20) if n >= 10 else 1

        kind = np.concatenate(
            [
                np.full(n, PRIMARY),
                np.full(len(secondary), SECONDARY),
                np.full(len(duplicate), DUPLICATE),
                np.full(prospects, PROSPECT),
            ]
        )
        customer = np.concatenate([cust, secondary, duplicate, np.full(prospects, -1)])
        total = len(kind)
        order = rng.permutation(total)  # account ids are not in customer order
        kind, customer = kind[order], customer[order]
        known = customer >= 0
        c = np.maximum(customer, 0)

        joiner = known & (pop.join[c] > 0)
        created = np.where(
            joiner,
            cal.start[np.minimum(pop.join[c], months - 1)] - 15 - rng.integers(0, 75, total),
            np.where(known, pop.created_day[c] - rng.integers(0, 200, total), 0),
        )
        second_created = np.minimum(start - 400 + rng.integers(0, 800, total), int(cal.start[months // 2]))
        created = np.where(kind == SECONDARY, np.maximum(created, second_created), created)
        prospect_created = start - 500 + rng.integers(0, 500 + 28 * months, total)
        created = np.where(kind == PROSPECT, np.minimum(prospect_created, int(cal.end[-1])), created)

        mapped_from = np.where(known, np.where(joiner, pop.join[c], -NEVER), NEVER)
        deleted_from = np.full(total, NEVER, dtype=np.int64)
        is_dup = kind == DUPLICATE
        deleted_from[is_dup] = rng.integers(1, months, is_dup.sum()) if months >= 2 else 0

        short = np.array(pop.short_name, dtype=object)
        names = []
        division = rng.integers(0, len(DIVISIONS), total)
        pf, ps = rng.integers(0, len(FIRST), total), rng.integers(0, len(SECOND), total)
        for i in range(total):
            k = kind[i]
            if k == PROSPECT:
                names.append(f"{FIRST[pf[i]]} {SECOND[ps[i]]} Partners")
            elif k == SECONDARY:
                names.append(short[c[i]] + DIVISIONS[division[i]])
            elif k == DUPLICATE:
                names.append(short[c[i]].upper())
            else:
                names.append(short[c[i]])

        persona = np.where(known, pop.persona[c], P.SMALL_SPORADIC)
        large = P.LARGE[persona] & known
        msp = known & (pop.group[c] == 1)
        owner = np.where(large, 0, 1)
        owner = np.where(msp & (rng.random(total) < 0.5), 2, owner)
        industry = np.where(
            known,
            pop.industry[c],
            np.where(rng.random(total) < 0.6, rng.integers(0, len(INDUSTRIES), total), -1),
        )
        employees = np.where(
            known & (kind != SECONDARY),
            pop.employees[c],
            np.where(rng.random(total) < 0.5, rng.integers(5, 400, total), -1),
        )
        factor = np.select([kind == PRIMARY, kind == SECONDARY, kind == DUPLICATE], [1.0, 0.35, 0.3], 1.0)
        return cls(
            account_id=col.sf_ids("001", 40_000 + np.arange(total) * 7),
            kind=kind,
            customer=customer,
            name=pa.array(names, pa.string()),
            created_day=created,
            mapped_from=mapped_from,
            deleted_from=deleted_from,
            owner_role=owner,
            industry=industry,
            employees=employees,
            activity_factor=factor,
            persona=persona,
        )

    def __len__(self) -> int:
        return len(self.kind)

    def exists(self, cal: Calendar, m: int) -> np.ndarray:
        return self.created_day <= cal.end[m]

    def engaged(self, cal: Calendar, pop: Population, m: int) -> np.ndarray:
        """Accounts sales works with in month m: existing, not deleted, customer not gone."""
        c = np.maximum(self.customer, 0)
        gone = (self.customer >= 0) & (m >= pop.churn[c] + STATUS_LAG)
        return self.exists(cal, m) & (self.deleted_from > m) & ~gone

    def primary_of(self, pop: Population) -> np.ndarray:
        """The primary account (index) of every customer."""
        out = np.full(pop.n, -1, dtype=np.int64)
        prim = np.flatnonzero(self.kind == PRIMARY)
        out[self.customer[prim]] = prim
        return out

    def snapshot(self, cal: Calendar, pop: Population, m: int) -> pa.Table:
        keep = np.flatnonzero(self.exists(cal, m))
        cust = self.customer[keep]
        mapped = (cust >= 0) & (self.mapped_from[keep] <= m)
        industry, employees = self.industry[keep], self.employees[keep]
        return pa.table(
            {
                "account_id": self.account_id.take(keep),
                "account_name": self.name.take(keep),
                "erp_customer_no": pop.customer_no.take(pa.array(np.maximum(cust, 0), mask=~mapped)),
                "industry": col.labels(INDUSTRIES, np.maximum(industry, 0), valid=industry >= 0),
                "employee_count": col.ints(employees, valid=employees >= 0),
                "owner_role": col.labels(OWNER_ROLES, self.owner_role[keep]),
                "created_date": col.dates(self.created_day[keep]),
                "is_deleted": col.bools(self.deleted_from[keep] <= m),
            }
        )

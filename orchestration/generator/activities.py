"""CRM activities (crm/activities): calls, e-mails, meetings, QBRs, site visits, trainings, webinars.

How much sales coverage an account gets follows its persona (high-service buyers are called and
visited a lot); large accounts get a quarterly business review. `customer_attended` is set only for
the meeting-type activities, more often true for customers with appetite.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.accounts import PRIMARY, Accounts
from orchestration.generator.calendar import Calendar
from orchestration.generator.population import Population
from orchestration.generator.rng import categorical, cumulative

TYPES = ("CALL", "EMAIL", "MEETING", "QBR", "SITE_VISIT", "TRAINING", "WEBINAR")
CALL, EMAIL, MEETING, QBR, SITE_VISIT, TRAINING, WEBINAR = range(7)
ATTENDED_TYPES = np.array([False, False, True, True, True, True, True])
MINUTES = np.array([[5, 30], [5, 15], [30, 90], [60, 120], [120, 480], [60, 240], [45, 60]])
ROLES = ("ACCOUNT_MANAGER", "INSIDE_SALES", "SOLUTION_ARCHITECT", "VCIO", "PARTNER_MANAGER")
# owner role mix by activity type: ACCOUNT_MANAGER, INSIDE_SALES, SOLUTION_ARCHITECT, VCIO, PARTNER_MANAGER
ROLE_MIX = cumulative(
    np.array(
        [
            [0.30, 0.60, 0.05, 0.00, 0.05],
            [0.30, 0.55, 0.05, 0.00, 0.10],
            [0.50, 0.05, 0.20, 0.15, 0.10],
            [0.55, 0.00, 0.05, 0.40, 0.00],
            [0.40, 0.00, 0.45, 0.15, 0.00],
            [0.05, 0.00, 0.80, 0.05, 0.10],
            [0.00, 0.10, 0.30, 0.00, 0.60],
        ]
    )
)
ACTIVITY_SEASON = 0.5  # CRM activity follows half of the sales season


def month_activities(
    cal: Calendar, pop: Population, acc: Accounts, m: int, rng: np.random.Generator, first_number: int
) -> pa.Table:
    active = np.flatnonzero(acc.engaged(cal, pop, m))
    persona = acc.persona[active]
    c = np.maximum(acc.customer[active], 0)
    known = acc.customer[active] >= 0
    appetite = np.where(known, pop.maturity[c, 4], 0.5)
    season = 1 + ACTIVITY_SEASON * (cal.season[m] - 1)
    lam = P.ACTIVITIES_PER_MONTH[persona] * acc.activity_factor[active] * (0.6 + 0.8 * appetite) * season
    count = rng.poisson(lam)
    account = np.repeat(active, count)
    kind = categorical(rng, cumulative(P.ACTIVITY_MIX[np.repeat(persona, count)])).astype(np.int64)
    # a quarterly business review for large primary accounts in the last month of each quarter
    if cal.month_of_year[m] % 3 == 0:
        qbr = active[(acc.kind[active] == PRIMARY) & P.LARGE[persona] & (rng.random(len(active)) < 0.8)]
        account = np.concatenate([account, qbr])
        kind = np.concatenate([kind, np.full(len(qbr), QBR)])
    order = np.lexsort((kind, account))
    account, kind = account[order], kind[order]
    n = len(account)
    day = cal.sample_days(rng, m, n)
    lo, hi = MINUTES[kind, 0], MINUTES[kind, 1]
    minutes = (lo + np.floor(rng.random(n) * (hi - lo + 1) / 5) * 5).astype(np.int64)
    minutes = np.maximum(minutes, lo)
    role = categorical(rng, ROLE_MIX[kind])
    ca = np.maximum(acc.customer[account], 0)
    attend_p = np.where(
        acc.customer[account] >= 0,
        P.ATTENDANCE[acc.persona[account]] * (0.7 + 0.5 * pop.maturity[ca, 4]),
        0.5,
    )
    attended = rng.random(n) < np.clip(attend_p, 0, 0.98)
    sets_attended = ATTENDED_TYPES[kind]
    return pa.table(
        {
            "activity_id": col.sf_ids("00T", first_number + np.arange(n)),
            "account_id": acc.account_id.take(account),
            "activity_date": col.dates(day),
            "activity_type": col.labels(TYPES, kind),
            "duration_minutes": col.ints(minutes),
            "owner_role": col.labels(ROLES, role),
            "customer_attended": col.bools(attended, valid=sets_attended),
        }
    )

"""CRM opportunities (crm/opportunities), re-extracted every time they change.

An opportunity is planned whole when it is created: one to four versions in distinct months (so a
batch never holds the same opportunity twice), each with a later `last_modified_at`, moving through
the stages with a changing amount and close date, most ending CLOSED_WON or CLOSED_LOST. Versions
that fall after the last month are not delivered (the opportunity is still open).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.accounts import Accounts
from orchestration.generator.calendar import SECONDS_PER_DAY, Calendar
from orchestration.generator.catalog import FAMILIES
from orchestration.generator.fx import CURRENCIES, Rates
from orchestration.generator.population import Population
from orchestration.generator.rng import categorical, cumulative, pick

STAGES = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST")
CLOSED_WON, CLOSED_LOST = 4, 5
DEAL_TYPES = ("NEW_BUSINESS", "UPSELL", "CROSS_SELL", "RENEWAL")
DEAL_MIX = np.array([0.20, 0.35, 0.30, 0.15])  # for existing customers; prospects: NEW_BUSINESS
NEEDS = ("STRATEGIC", "TACTICAL", "PERSONAL")
VERSIONS_MIX = np.array([0.25, 0.30, 0.30, 0.15])  # 1..4 versions
CLOSE_RATE = 0.85  # opportunities that reach a closed stage in their last version

FIELDS = (
    "number",
    "account",
    "created",
    "close",
    "stage",
    "amount",
    "currency",
    "family",
    "deal",
    "need",
    "modified",
)


class Pipeline:
    """Opportunities created so far and the versions still to be delivered, by month."""

    def __init__(self) -> None:
        self.pending: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.next_number = 0

    def create(
        self, cal: Calendar, pop: Population, acc: Accounts, fx: Rates, m: int, rng: np.random.Generator
    ) -> None:
        active = np.flatnonzero(acc.engaged(cal, pop, m))
        known = acc.customer[active] >= 0
        c = np.maximum(acc.customer[active], 0)
        persona = acc.persona[active]
        appetite = np.where(known, pop.maturity[c, 4], 0.4)
        lam = (
            P.OPPORTUNITIES_PER_MONTH[persona]
            * acc.activity_factor[active]
            * (0.4 + 1.2 * appetite)
            * cal.season[m]
        )
        lam = np.where(known, lam, 0.25)
        count = rng.poisson(lam)
        account = np.repeat(active, count)
        n = len(account)
        if n == 0:
            return
        numbers = self.next_number + np.arange(n)
        self.next_number += n
        ca = np.maximum(acc.customer[account], 0)
        is_customer = acc.customer[account] >= 0
        persona = acc.persona[account]
        currency = np.where(is_customer, pop.currency[ca], 0)
        family = np.where(is_customer, categorical(rng, pop.family_cum[ca]), pick(rng, n, [3, 2, 2, 2, 1]))
        deal = np.where(is_customer, pick(rng, n, DEAL_MIX), 0)
        need_set = rng.random(n) < P.NEED_CAPTURE[persona]
        need = categorical(rng, cumulative(P.NEED_MIX[persona]))
        size_lcy = (
            P.OPPORTUNITY_SIZE[persona] * np.where(is_customer, pop.size[ca], 1.0) * rng.lognormal(0, 0.6, n)
        )
        amount0 = fx.to_currency(np.maximum(size_lcy, 500) * 100, currency, m)
        amount0 = np.maximum(col.round_half_away(amount0 / 10_000) * 10_000, 10_000)  # whole hundreds
        created = cal.sample_days(rng, m, n)
        versions = 1 + pick(rng, n, VERSIONS_MIX).astype(np.int64)
        closes = rng.random(n) < CLOSE_RATE
        wins = rng.random(n) < P.WIN_RATE[persona] * (
            0.6 + 0.8 * np.where(is_customer, pop.maturity[ca, 4], 0.4)
        )
        start_stage = (rng.random(n) < 0.4).astype(np.int64)
        expected_close = created + 30 + rng.integers(0, 90, n)

        month, stage, amount, close = m, start_stage.copy(), amount0.copy(), expected_close.copy()
        modified = created * SECONDS_PER_DAY + rng.integers(8 * 3600, 18 * 3600, n)
        gap = np.zeros(n, dtype=np.int64)
        for k in range(4):  # version k of every opportunity that has one
            has = versions > k
            if k > 0:
                gap = gap + 1 + (rng.random(n) < 0.35)
                vm = m + gap
                last = versions == k + 1
                stage = np.where(
                    last & closes, np.where(wins, CLOSED_WON, CLOSED_LOST), np.minimum(start_stage + k, 3)
                )
                amount = np.maximum(
                    col.round_half_away(amount * rng.uniform(0.8, 1.2, n) / 10_000) * 10_000, 10_000
                )
                inside = np.minimum(vm, len(cal) - 1)
                day = cal.start[inside] + np.floor(
                    rng.random(n) * (cal.end[inside] - cal.start[inside] + 1)
                ).astype(np.int64)
                modified = day * SECONDS_PER_DAY + rng.integers(7 * 3600, 19 * 3600, n)
                slipped = close < day
                close = np.where(
                    stage >= CLOSED_WON, day, np.where(slipped, day + 30 + rng.integers(0, 60, n), close)
                )
                month = vm
            else:
                month = np.full(n, m, dtype=np.int64)
            for target in np.unique(month[has]):
                if target >= len(cal):
                    continue
                sel = has & (month == target)
                self.pending[int(target)].append(
                    {
                        "number": numbers[sel],
                        "account": account[sel],
                        "created": created[sel],
                        "close": close[sel],
                        "stage": stage[sel],
                        "amount": amount[sel],
                        "currency": currency[sel],
                        "family": family[sel],
                        "deal": deal[sel],
                        "need": np.where(need_set, need, -1)[sel],
                        "modified": modified[sel],
                    }
                )

    def deliver(self, acc: Accounts, m: int) -> pa.Table:
        """The opportunity versions of month m's batch (and forgets them)."""
        parts = self.pending.pop(m, [])
        data = {
            f: np.concatenate([p[f] for p in parts]) if parts else np.zeros(0, dtype=np.int64) for f in FIELDS
        }
        order = np.argsort(data["number"], kind="stable")
        d = {f: v[order] for f, v in data.items()}
        need = d["need"]
        return pa.table(
            {
                "opportunity_id": col.sf_ids("006", 700_000 + d["number"] * 3),
                "account_id": acc.account_id.take(pa.array(d["account"], pa.int64())),
                "created_date": col.dates(d["created"]),
                "close_date": col.dates(d["close"]),
                "stage": col.labels(STAGES, d["stage"]),
                "amount": col.money(d["amount"]),
                "currency": col.labels(CURRENCIES, d["currency"]),
                "product_family": col.labels(FAMILIES, d["family"]),
                "deal_type": col.labels(DEAL_TYPES, d["deal"]),
                "need_driver": col.labels(NEEDS, np.maximum(need, 0), valid=need >= 0),
                "last_modified_at": col.timestamps(d["modified"]),
            }
        )

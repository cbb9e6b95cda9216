"""Currencies and the monthly average exchange rates (erp/fx_rates)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.calendar import Calendar
from orchestration.generator.rng import stream

LCY = "USD"
CURRENCIES = ("USD", "EUR", "GBP", "CAD")  # index 0 is LCY
START_RATE = np.array([1.0, 1.085, 1.265, 0.738])  # LCY per unit of the currency
MONTHLY_VOLATILITY = 0.012
RATE_SCALE = 1_000_000  # rates carry 6 decimals


@dataclass(frozen=True)
class Rates:
    micro: np.ndarray  # (currencies, months) int64: rate_to_lcy × 10^6; LCY is exactly 10^6

    @classmethod
    def build(cls, cal: Calendar, seed: int) -> Rates:
        rng = stream(seed, "fx")
        steps = rng.normal(0.0, MONTHLY_VOLATILITY, size=(len(CURRENCIES), len(cal)))
        steps[:, 0] = 0.0
        level = START_RATE[:, None] * np.exp(np.cumsum(steps, axis=1) - steps[:, :1])
        micro = col.round_half_away(level * RATE_SCALE)
        micro[0, :] = RATE_SCALE
        return cls(micro=micro)

    def rate(self, currency: np.ndarray, m: int) -> np.ndarray:
        return self.micro[currency, m]

    def to_currency(self, lcy_cents: np.ndarray, currency: np.ndarray, m: int) -> np.ndarray:
        """A price list in LCY cents as whole cents of each row's currency."""
        return col.round_half_away(np.asarray(lcy_cents) * RATE_SCALE / self.micro[currency, m])

    def to_lcy_cents(self, cents: np.ndarray, currency: np.ndarray, m: int) -> np.ndarray:
        """Row-wise conversion to LCY cents (rounded): for making LCY amounts, never for sums."""
        return col.round_half_away(np.asarray(cents) * (self.micro[currency, m] / RATE_SCALE))

    def table(self, cal: Calendar, m: int) -> pa.Table:
        """The month's rates; LCY itself is omitted (it converts at 1)."""
        cur = np.array(sorted(range(1, len(CURRENCIES)), key=lambda c: CURRENCIES[c]))  # key order
        return pa.table(
            {
                "period_end": col.dates(np.full(len(cur), cal.end[m])),
                "currency": col.labels(CURRENCIES, cur),
                "rate_to_lcy": col.money(self.micro[cur, m], scale=6),
            }
        )

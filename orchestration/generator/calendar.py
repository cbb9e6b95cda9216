"""The fiscal calendar of a generation: its months, their days, seasonality and trend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_DAY = 86_400

# Demand by calendar month (January first): quarter-end pushes, a summer and an August dip, and the
# Q4 peak of IT budgets being spent before year end.
SEASONALITY = np.array([0.92, 0.95, 1.08, 0.96, 0.98, 1.06, 0.90, 0.72, 1.04, 1.08, 1.18, 1.32])
MONTHLY_GROWTH = 0.005  # underlying demand grows about 6 % a year
WEEKEND_WEIGHT = 0.08  # business days carry almost all postings


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.split("-"))
        dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"end_month must be YYYY-MM, got {text!r}") from None
    if len(text) != 7:
        raise ValueError(f"end_month must be YYYY-MM, got {text!r}")
    return year, month


def last_complete_month(today: dt.date | None = None) -> str:
    """The last month that has fully ended before `today` (the only use of the clock)."""
    today = today or dt.date.today()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def epoch_day(d: dt.date) -> int:
    return (d - EPOCH).days


def day_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@dataclass(frozen=True)
class Calendar:
    months: tuple[str, ...]  # "YYYY-MM", oldest first
    start: np.ndarray  # epoch day of each month's first day
    end: np.ndarray  # epoch day of each month's last day
    month_of_year: np.ndarray  # 1..12
    year: np.ndarray
    season: np.ndarray  # demand factor of each month
    trend: np.ndarray

    @classmethod
    def build(cls, months: int, end_month: str) -> Calendar:
        if months < 1:
            raise ValueError("months must be at least 1")
        year, month = parse_month(end_month)
        index = year * 12 + (month - 1) - np.arange(months - 1, -1, -1)
        years, moys = index // 12, index % 12 + 1
        starts = np.array([epoch_day(dt.date(int(y), int(m), 1)) for y, m in zip(years, moys, strict=True)])
        nxt = index + 1
        ends = np.array(
            [epoch_day(dt.date(int(y), int(m), 1)) - 1 for y, m in zip(nxt // 12, nxt % 12 + 1, strict=True)]
        )
        labels = tuple(f"{int(y):04d}-{int(m):02d}" for y, m in zip(years, moys, strict=True))
        return cls(
            months=labels,
            start=starts,
            end=ends,
            month_of_year=moys,
            year=years,
            season=SEASONALITY[moys - 1],
            trend=(1 + MONTHLY_GROWTH) ** np.arange(months),
        )

    def __len__(self) -> int:
        return len(self.months)

    @property
    def first_index(self) -> int:
        return int(self.year[0]) * 12 + int(self.month_of_year[0]) - 1

    def month_end(self, m: int) -> dt.date:
        return day_date(self.end[m])

    def extracted_at(self, m: int) -> str:
        """When the batch of month m was extracted: the 2nd of the next month, 03:15 UTC."""
        nxt = day_date(self.end[m] + 2)
        return f"{nxt.isoformat()}T03:15:00Z"

    def extraction_second(self, m: int) -> int:
        return int(self.end[m] + 2) * SECONDS_PER_DAY + 3 * 3600 + 15 * 60

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """The month index (may be < 0 or ≥ len) of each epoch day."""
        months = np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return months - (self.first_index - (1970 * 12))

    def sample_days(self, rng: np.random.Generator, m: int, n: int) -> np.ndarray:
        """`n` epoch days in month m, business days much likelier than weekends."""
        days = np.arange(self.start[m], self.end[m] + 1)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        w = np.where(weekday >= 5, WEEKEND_WEIGHT, 1.0)
        cum = np.cumsum(w) / w.sum()
        cum[-1] = 1.0
        return days[np.searchsorted(cum, rng.random(n), side="right").clip(0, len(days) - 1)]

    def later_day(
        self, rng: np.random.Generator, m: int, day: np.ndarray, max_days: int | None = None
    ) -> np.ndarray:
        """A day uniformly between `day` and month m's end (or `day + max_days`, if sooner)."""
        day = np.asarray(day, dtype=np.int64)
        last = np.full_like(day, self.end[m])
        if max_days is not None:
            last = np.minimum(last, day + max_days)
        span = np.maximum(last - day + 1, 1)
        return day + np.floor(rng.random(len(day)) * span).astype(np.int64)

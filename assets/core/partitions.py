"""The `month` partitions every monthly asset shares: Dagster's monthly time windows, keys `YYYY-MM`,
from the configured first month (`partitions.first_month`) through the open (current, UTC) month.

The partition keys are a plain computation (`month_keys`), nothing is registered in the instance.
`orchestration/preflight.py` holds the same bounds without importing Dagster, to refuse a landing
month outside them before a run (tests/orchestration/test_partitions.py keeps the two equal).
"""

from __future__ import annotations

import dagster as dg

MONTH_FORMAT = "%Y-%m"


def month_partitions(first_month: str) -> dg.MonthlyPartitionsDefinition:
    """Monthly partitions from `first_month` (YYYY-MM); end_offset=1 adds the month in progress."""
    return dg.MonthlyPartitionsDefinition(start_date=first_month, fmt=MONTH_FORMAT, end_offset=1)


def month_keys(first_month: str) -> list[str]:
    """Every month partition key that exists now, oldest first."""
    return month_partitions(first_month).get_partition_keys()

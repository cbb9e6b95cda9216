"""The `month` partitions every monthly asset shares: one key per batch month (YYYY-MM) found in
the landing folder (`assets.ingestion.assets.register_months` adds them, in chronological order)."""

from __future__ import annotations

import dagster as dg

MONTH_PARTITIONS_NAME = "month"

month_partitions = dg.DynamicPartitionsDefinition(name=MONTH_PARTITIONS_NAME)

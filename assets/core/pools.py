"""Dagster pools: the warehouse has one writer at a time.

Every step that writes (or holds open) the DuckDB warehouse runs in this pool; the instances set
its limit to one slot (orchestration/dagster_instances).
"""

WAREHOUSE_WRITER_POOL = "warehouse_writer"

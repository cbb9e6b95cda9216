"""Reading the warehouse from a check: a short read-only connection and the run's batch months."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@contextmanager
def connect(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, closed at once: checks never hold the file while others write.

    Inside a process that already has the file open read-write (one connection configuration per
    file and process in DuckDB), the check falls back to an ordinary connection; it only reads.
    """
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise FileNotFoundError(f"the warehouse {warehouse} does not exist")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        con = duckdb.connect(str(warehouse))
    try:
        yield con
    finally:
        con.close()


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


@dataclass(frozen=True)
class BatchScope:
    """The batch months a run loaded: one partition, a range, or (no partition tags) every batch."""

    first: str | None = None
    last: str | None = None

    def __post_init__(self) -> None:
        for m in (self.first, self.last):
            if m is not None and not MONTH.match(m):
                raise ValueError(f"not a batch month (YYYY-MM): {m!r}")

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> BatchScope:
        if tags.get(PARTITION_TAG):
            key = tags[PARTITION_TAG]
            return cls(key, key) if MONTH.match(key) else cls()
        start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
        if start and end and MONTH.match(start) and MONTH.match(end):
            return cls(start, end)
        return cls()

    def where(self, column: str = "_batch") -> str:
        """A SQL condition on a YYYY-MM column (the values are validated months, safe to inline)."""
        if self.first is None:
            return "TRUE"
        return f"{column} BETWEEN '{self.first}' AND '{self.last}'"

    def describe(self) -> str:
        if self.first is None:
            return "every batch (the run has no month partition)"
        return self.first if self.first == self.last else f"{self.first}..{self.last}"

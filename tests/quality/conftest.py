"""Small DuckDB warehouses for the quality checks, built by hand in temporary folders.

The raw layer comes from `assets.core.contract.create_raw_tables`, the audit tables from
`assets.ingestion.audit.create_audit_tables` (the loader's own DDL); mart tables are shaped as docs/architecture.md and docs/marts.md describe them. Rows are inserted as dicts of
contract columns; bookkeeping columns (`_batch`, `_file`, `_line`, `_loaded_at`) are filled in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from assets.core.contract import create_raw_tables, entity
from assets.ingestion.audit import create_audit_tables
from orchestration.generator.landing import PARQUET_TYPES
from quality.base import Env
from quality.warehouse import BatchScope

MART_DDL = {
    "margin_reconciliation": """CREATE TABLE marts.margin_reconciliation (
        month DATE, line_item VARCHAR, pipeline_amount DECIMAL(18,2), unassigned_amount DECIMAL(18,2),
        unallocated_amount DECIMAL(18,2), unused_capacity_amount DECIMAL(18,2), gl_amount DECIMAL(18,2),
        difference DECIMAL(18,2), status VARCHAR)""",
    "fct_customer_profit_monthly": """CREATE TABLE marts.fct_customer_profit_monthly (
        month DATE, customer_no VARCHAR, net_revenue DECIMAL(18,2), cost_to_serve DECIMAL(18,2),
        contribution_margin DECIMAL(18,2))""",
    "customer_segments": """CREATE TABLE marts.customer_segments (
        month DATE, customer_no VARCHAR, customer_name VARCHAR, net_revenue_t12m DECIMAL(18,2),
        stratum VARCHAR, profitability_quadrant VARCHAR, revenue_tier VARCHAR, maturity_tier VARCHAR,
        maturity_segment VARCHAR, needs_group VARCHAR, config_version VARCHAR)""",
    "segment_kpis": """CREATE TABLE marts.segment_kpis (
        month DATE, segmentation VARCHAR, segment VARCHAR, customers BIGINT, net_revenue DECIMAL(18,2),
        gross_margin DECIMAL(18,2), cost_to_serve DECIMAL(18,2), contribution_margin DECIMAL(18,2),
        contribution_margin_pct DOUBLE, aov DECIMAL(18,2), retention_rate DOUBLE,
        upsell_cross_sell_rate DOUBLE,
        migration_up_rate DOUBLE, migration_down_rate DOUBLE, changed_rate DOUBLE, cltv DECIMAL(18,2),
        aov_yoy_change DOUBLE, cltv_yoy_change DOUBLE)""",
}

LOADED_AT = dt.datetime(2026, 4, 2, 3, 0, 0)


class Warehouse:
    """A DuckDB warehouse under a temporary `out` folder, with helpers to fill it."""

    def __init__(self, out: Path):
        self.out = out
        self.path = out / "warehouse.duckdb"
        self.landing = out / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.path)) as con:
            create_raw_tables(con)
            create_audit_tables(con)
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")

    def sql(self, sql: str, params=None):
        with duckdb.connect(str(self.path)) as con:
            return con.execute(sql, params or []).fetchall()

    def raw(self, system: str, name: str, batch: str, rows: list[dict]) -> None:
        ent = entity(system, name)
        cols = [*ent.column_names, "_batch", "_file", "_line", "_loaded_at"]
        unknown = {k for r in rows for k in r} - set(ent.column_names)
        assert not unknown, f"not columns of {system}/{name}: {unknown}"
        arrays = [pa.array([r.get(c.name) for r in rows], type=PARQUET_TYPES[c.type]) for c in ent.columns]
        arrays += [
            pa.array([batch] * len(rows)),
            pa.array([f"{system}/{name}/{batch}/part-0001.csv"] * len(rows)),
            pa.array(range(2, len(rows) + 2), type=pa.int64()),
            pa.array([LOADED_AT] * len(rows)),
        ]
        batch_rows = pa.Table.from_arrays(arrays, names=cols)  # noqa: F841 (read by DuckDB below)
        with duckdb.connect(str(self.path)) as con:
            con.execute(f"INSERT INTO raw.{ent.table} ({', '.join(cols)}) SELECT * FROM batch_rows")

    def load_batch(
        self, system: str, name: str, batch: str, read: int, quarantined: int, status: str = "LOADED"
    ) -> None:
        self.sql(
            "INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, 'x')",
            [
                system,
                name,
                batch,
                f"{system}/{name}/{batch}/part-0001.csv",
                read,
                read - quarantined,
                quarantined,
                status,
                LOADED_AT,
            ],
        )

    def quarantine(
        self, system: str, name: str, batch: str, line: int, column: str, value: str, reason: str
    ) -> None:
        self.sql(
            "INSERT INTO audit.quarantined_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [system, name, batch, f"{system}/{name}/{batch}/part-0001.csv", line, column, value, reason],
        )

    def mart(self, table: str, rows: list[dict]) -> None:
        with duckdb.connect(str(self.path)) as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
                "AND table_name = ?",
                [table],
            ).fetchone()[0]
            if not exists:
                con.execute(MART_DDL[table])
            for r in rows:
                cols = list(r)
                con.execute(
                    f"INSERT INTO marts.{table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [r[c] for c in cols],
                )

    def landing_batch(self, system: str, name: str, month: str) -> None:
        (self.landing / system / name / month).mkdir(parents=True, exist_ok=True)

    def env(self, first: str | None = None, last: str | None = None) -> Env:
        return Env(
            warehouse=self.path, out=self.out, landing=self.landing, scope=BatchScope(first, last or first)
        )


@pytest.fixture(scope="session", autouse=True)
def gx_context():
    """Build the GX context once per session (importing GX and creating it is the slow part)."""
    from quality.gx_runner import context

    return context()


@pytest.fixture(autouse=True)
def no_data_docs(monkeypatch, request):
    """Data Docs off except in tests marked `data_docs` (rendering HTML is the slow part of GX)."""
    from quality import ranges

    if "data_docs" not in request.keywords:
        monkeypatch.setattr(ranges, "DATA_DOCS", False)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "data_docs: the test writes GX Data Docs")


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


def meta(result, key: str):
    """A metadata value of an AssetCheckResult as plain Python."""
    value = result.metadata[key]
    return getattr(value, "value", value)


def failed_rules(result) -> list[str]:
    return (
        [f["rule"] for f in meta(result, "failed_expectations")]
        if "failed_expectations" in result.metadata
        else []
    )

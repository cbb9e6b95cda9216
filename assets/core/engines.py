"""The engine dbt runs on (the dbt target), and what each one needs around dbt.

strata's dbt models run unchanged on two targets of `dbt_project/profiles.yml` (docs/spark.md):

- `duckdb` (default): dbt reads the warehouse's `raw` schema and writes into the warehouse
  (`<out>/warehouse.duckdb`).
- `spark`: dbt reads `<out>/raw_parquet/<system>__<entity>/data.parquet` (exported from the raw
  layer before every build) and writes Parquet tables `<out>/spark_warehouse/<schema>.db/<table>/`.

Ingestion and the audit tables are DuckDB on both targets. One setting switches the target: the
`paths` resource's `dbt_target`, which defaults to the environment variable `STRATA_DBT_TARGET`
(`duckdb` or `spark`). Everything downstream of dbt (asset checks, publishing) reads the models
through `open_layers` / `attach_layers`, a DuckDB catalog laid out like the warehouse whichever
engine built them, so nothing else knows which engine ran.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from assets.core.dbt_executable import WORKDIR_ENV
from assets.core.sql import sql_ident, sql_literal

ENV_TARGET = "STRATA_DBT_TARGET"
DBT_TARGETS = ("duckdb", "spark")
DEFAULT_TARGET = "duckdb"

RAW_PARQUET = "raw_parquet"
SPARK_WAREHOUSE = "spark_warehouse"
DBT_TARGET = "dbt_target"
PARQUET_FILE = "data.parquet"
EXPORT_MANIFEST = "_export.json"
# The schemas dbt writes (staging is views only: nothing to read back on Spark).
DBT_SCHEMAS = ("intermediate", "marts")
# The schemas ingestion (raw, audit) and the predicted-value fits (clv, assets/clv) write; always in
# the DuckDB warehouse.
WAREHOUSE_SCHEMAS = ("raw", "audit", "clv")


class EngineError(RuntimeError):
    """The dbt target is unknown, or its output is not where it should be."""


def resolve_target(value: str | None = None) -> str:
    """`value`, else $STRATA_DBT_TARGET, else duckdb; refused unless it names a profile target."""
    target = (value or os.environ.get(ENV_TARGET) or DEFAULT_TARGET).strip().lower()
    if target not in DBT_TARGETS:
        raise EngineError(
            f"unknown dbt target {target!r} ({ENV_TARGET}): use one of {', '.join(DBT_TARGETS)}"
        )
    return target


def require_adapter(target: str) -> None:
    """Refuse a target whose dbt adapter is not installed (Spark's is an optional dependency group)."""
    if target == "spark" and importlib.util.find_spec("dbt.adapters.spark") is None:
        raise EngineError(
            "the spark dbt target needs dbt-spark and pyspark, which are not installed: "
            "run `uv sync --group spark` (and install Java 17), see docs/spark.md"
        )


def raw_parquet_dir(out: Path) -> Path:
    return Path(out) / RAW_PARQUET


def spark_warehouse_dir(out: Path) -> Path:
    return Path(out) / SPARK_WAREHOUSE


def dbt_target_dir(out: Path) -> Path:
    """The dbt target folder of the runs into `out`: their saved parse, compiled SQL and logs.

    One per output folder, not the project's `target/`: dbt re-parses the whole project when the
    profile changes (the warehouse path is part of it), so runs into different output folders at
    once would overwrite each other's saved parse and each pay for a full parse.
    """
    return Path(out) / DBT_TARGET


def spark_table_dir(out: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table of the strata catalog (spark.sql.warehouse.dir layout)."""
    return spark_warehouse_dir(out) / f"{schema}.db" / table


def dbt_env(target: str, warehouse: Path, out: Path, duckdb_settings=None) -> dict[str, str]:
    """The environment the profile reads for `target` (dbt_project/profiles.yml).

    Not STRATA_DBT_TARGET itself: dbt gets `--target`, and the process's own setting stays as the
    user gave it (a later run in the same process must not inherit this run's target).
    `duckdb_settings` (the configuration's `warehouse:` section, assets/core/settings.py) gives
    DuckDB's threads, memory limit and spill folder (STRATA_DUCKDB_*): always all three, so the
    profile's fallbacks only serve a dbt run by hand. DBT_TARGET_PATH is the output folder's own dbt
    target folder (`dbt_target_dir`), where dagster-dbt also looks for the saved parse to reuse.
    """
    warehouse = Path(warehouse).absolute()
    env = {"STRATA_WAREHOUSE": warehouse.name, WORKDIR_ENV: str(warehouse.parent),
           "DBT_TARGET_PATH": str(dbt_target_dir(out))}
    if target == "duckdb" and duckdb_settings is not None:
        env["STRATA_DUCKDB_THREADS"] = str(duckdb_settings.thread_count())
        env["STRATA_DUCKDB_MEMORY_LIMIT"] = duckdb_settings.memory_limit or "80%"  # DuckDB's default
        env["STRATA_DUCKDB_TEMP_DIRECTORY"] = duckdb_settings.temp_directory or f"{warehouse.name}.tmp"
    if target == "spark":
        env["STRATA_RAW_PARQUET"] = str(raw_parquet_dir(out))
        env["STRATA_SPARK_WAREHOUSE"] = str(spark_warehouse_dir(out))
    return env


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in the process environment while the block runs, the previous values after it.

    dbt reads its profile's settings from the environment and dagster-dbt starts dbt with this
    process's environment (it takes no other), so a dbt step sets them for its own call only: a
    later step or run in the same process never inherits them.
    """
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --------------------------------------------------------------------------------------------------
# The raw layer as Parquet (what the Spark target reads).


def export_raw_parquet(warehouse: Path, dest: Path) -> dict[str, int]:
    """Copy every table of the warehouse's `raw` schema to `dest/<table>/data.parquet`.

    The raw layer holds only rows that passed the landing contract's rules, so the files are the
    validated raw layer, column for column (`_extra`, DuckDB's JSON type, as text: Spark has no JSON
    type). Each table is written beside its folder, its row count checked against the warehouse, then
    swapped in; `dest/_export.json` lists the tables and rows. Returns rows per table.
    """
    warehouse, dest = Path(warehouse), Path(dest)
    if not warehouse.is_file():
        raise EngineError(f"the warehouse {warehouse} does not exist: no raw layer to export")
    dest.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        con.execute("BEGIN TRANSACTION")  # one snapshot of the raw layer for every table
        for table in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
            select = ", ".join(
                f"CAST({sql_ident(c)} AS VARCHAR) AS {sql_ident(c)}" if t == "JSON" else sql_ident(c)
                for c, t in cols
            )
            tmp = dest / f".{table}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            target = tmp / PARQUET_FILE
            con.execute(f"COPY (SELECT {select} FROM raw.{sql_ident(table)}) TO {sql_literal(target)} "
                        "(FORMAT parquet, COMPRESSION zstd)")
            expected = con.execute(f"SELECT count(*) FROM raw.{sql_ident(table)}").fetchone()[0]
            written = con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(target)})").fetchone()[0]
            if expected != written:
                raise EngineError(f"raw.{table}: {expected} rows in the warehouse but {written} in {target}")
            final, old = dest / table, dest / f".{table}.old"
            shutil.rmtree(old, ignore_errors=True)
            if final.exists():
                os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
            rows[table] = expected
        con.execute("COMMIT")
    manifest = {"warehouse": str(warehouse), "rows": rows}
    (dest / EXPORT_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return rows


# --------------------------------------------------------------------------------------------------
# Reading the models back, whichever engine built them.


def spark_tables(out: Path, schema: str) -> dict[str, Path]:
    """{table: folder} of the Parquet tables Spark wrote in `schema` (folders with data files)."""
    root = spark_warehouse_dir(out) / f"{schema}.db"
    if not root.is_dir():
        return {}
    return {
        p.name: p for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.parquet"))
    }


def attach_layers(con: duckdb.DuckDBPyConnection, warehouse: Path, out: Path, target: str,
                  alias: str = "warehouse") -> None:
    """Make catalog `alias` of `con` look like the warehouse: raw, audit, intermediate and marts.

    DuckDB target: the warehouse file itself, attached read-only. Spark target: an in-memory catalog
    whose raw and audit schemas are views over the warehouse (attached read-only as `<alias>_duckdb`)
    and whose intermediate and marts schemas are views over Spark's Parquet tables. Raises
    duckdb.IOException when the warehouse is locked by a writer.
    """
    target = resolve_target(target)
    if target == "duckdb":
        con.execute(f"ATTACH {sql_literal(warehouse)} AS {sql_ident(alias)} (READ_ONLY)")
        return
    source = f"{alias}_duckdb"
    con.execute(f"ATTACH {sql_literal(warehouse)} AS {sql_ident(source)} (READ_ONLY)")
    con.execute(f"ATTACH ':memory:' AS {sql_ident(alias)}")
    for schema in WAREHOUSE_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {sql_ident(alias)}.{sql_ident(schema)}")
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
            "ORDER BY table_name", [source, schema]).fetchall():
            con.execute(f"CREATE VIEW {sql_ident(alias)}.{sql_ident(schema)}.{sql_ident(table)} AS "
                        f"SELECT * FROM {sql_ident(source)}.{sql_ident(schema)}.{sql_ident(table)}")
    for schema in DBT_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {sql_ident(alias)}.{sql_ident(schema)}")
        for table, folder in spark_tables(out, schema).items():
            con.execute(f"CREATE VIEW {sql_ident(alias)}.{sql_ident(schema)}.{sql_ident(table)} AS "
                        f"SELECT * FROM read_parquet({sql_literal(folder / '*.parquet')})")


@contextlib.contextmanager
def open_layers(warehouse: Path, out: Path, target: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection whose default catalog has the warehouse's schemas.

    DuckDB target: the warehouse file opened read-only (exactly what readers did before there was a
    choice). Spark target: an in-memory database laid out by `attach_layers`, its default catalog.
    """
    target = resolve_target(target)
    if target == "duckdb":
        con = duckdb.connect(str(warehouse), read_only=True)
    else:
        con = duckdb.connect()
        attach_layers(con, warehouse, out, target, alias="layers")
        con.execute("USE layers")
    try:
        yield con
    finally:
        con.close()

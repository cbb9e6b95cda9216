"""Build a warehouse from a hand-made fixture and read the marts back.

A fixture is a list of `Batch`es (system, entity, month, rows as dicts of Python values: str,
int, Decimal, datetime.date/datetime, bool, None). `build_fixture_warehouse` writes them as a
landing folder (`orchestration.generator.landing.write_batch`, exactly as the extracts arrive), builds the
warehouse under `out`, and returns its path.

Until the whole Dagster run (`orchestration.runner.materialize`) is what the tests go through, the
warehouse is built directly: the raw layer is created with `contract.create_raw_tables`, the
fixture rows are inserted as the ingestion would load them, and dbt builds the finance models with
`--vars` = `load_settings(config).dbt_vars()`. Switching to the full run is one line in
`build_fixture_warehouse` (see there).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from assets.core.contract import create_raw_tables, entity
from assets.core.settings import load_settings
from orchestration.generator.landing import write_batch

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
# The finance part of the dbt project (staging, intermediate, marts, integrity tests).
FINANCE_SELECTION = ("--select", "tag:finance", "--indirect-selection", "cautious")


@dataclass(frozen=True)
class Batch:
    system: str
    entity: str
    month: str  # YYYY-MM
    rows: Sequence[dict] = field(default_factory=list)


def write_landing(root: Path, batches: Iterable[Batch]) -> Path:
    """The fixture as a landing folder (CSV + manifest per batch), as the source systems drop it."""
    for b in batches:
        write_batch(root, b.system, b.entity, b.month, b.rows)
    return root


def load_raw(warehouse: Path, batches: Iterable[Batch]) -> None:
    """Insert the fixture rows into the raw layer as the ingestion loads them (typed, bookkeeping)."""
    loaded_at = dt.datetime(2026, 3, 2, 3, 0, 0)
    con = duckdb.connect(str(warehouse))
    try:
        create_raw_tables(con)
        for b in batches:
            ent = entity(b.system, b.entity)
            names = list(ent.column_names) + ["_batch", "_file", "_line", "_extra", "_loaded_at"]
            sql = (f"INSERT INTO raw.{ent.table} ({', '.join(names)}) "
                   f"VALUES ({', '.join('?' for _ in names)})")
            file = f"{b.system}/{b.entity}/{b.month}/part-0001.csv"
            rows = [
                [row.get(c) for c in ent.column_names] + [b.month, file, line, None, loaded_at]
                for line, row in enumerate(b.rows, start=2)
            ]
            if rows:
                con.executemany(sql, rows)
    finally:
        con.close()


def dbt_vars(config_file: Path | None = None) -> str:
    return json.dumps(load_settings(config_file).dbt_vars(), sort_keys=True)


def run_dbt(warehouse: Path, args: Sequence[str], config_file: Path | None = None,
            work: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run dbt (from this environment) on the warehouse file with the configuration's vars.

    Target and log folders go to `work` so that parallel builds never share dbt's state. `env`
    adds environment variables (a build plan's months: orchestration.dbt.plan_env).
    """
    work = Path(work or warehouse.parent)
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "STRATA_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           **(env or {})}
    cmd = [str(dbt), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
           "--target-path", str(work / "dbt_target"), "--log-path", str(work / "dbt_logs"),
           "--vars", dbt_vars(config_file)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=DBT_PROJECT)


def build_fixture_warehouse(batches: Sequence[Batch], tmp: Path, config_file: Path | None = None,
                            dbt_args: Sequence[str] = ("build", *FINANCE_SELECTION)) -> Path:
    """Landing folder -> warehouse (<tmp>/out/warehouse.duckdb); fails the test if the build fails."""
    landing, out = tmp / "landing", tmp / "out"
    write_landing(landing, batches)
    out.mkdir(parents=True, exist_ok=True)
    return _build_directly(batches, out, config_file, dbt_args)


def _build_directly(batches: Sequence[Batch], out: Path, config_file: Path | None,
                    dbt_args: Sequence[str]) -> Path:
    warehouse = out / "warehouse.duckdb"
    load_raw(warehouse, batches)
    result = run_dbt(warehouse, dbt_args, config_file, work=out)
    if result.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(dbt_args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}")
    return warehouse


# The segments part in the two dbt builds of a run, around the predicted-value fit (assets/clv):
# the models up to its inputs, then the fit, then everything else of the segments part.
SEGMENTS_BEFORE_FIT = ("build", "--select", "+int_clv_inputs", "--indirect-selection", "buildable")
SEGMENTS_AFTER_FIT = ("build", "--select", "+tag:segments", "--exclude", "+int_clv_inputs",
                      "--indirect-selection", "buildable")


def build_segments_fixture_warehouse(batches: Sequence[Batch], tmp: Path,
                                     config_file: Path | None = None) -> Path:
    """Landing folder -> warehouse with the segment marts, dbt run directly as a Dagster run orders
    it: dbt up to int_clv_inputs, the predicted-value fit, the rest of the segments part."""
    from assets.clv.asset import fit_warehouse
    from assets.core.resources import StrataPaths

    warehouse = build_fixture_warehouse(batches, tmp, config_file, SEGMENTS_BEFORE_FIT)
    paths = StrataPaths(landing_dir=str(tmp / "landing"), out_dir=str(warehouse.parent),
                        **({"config_file": str(config_file)} if config_file else {}))
    fit_warehouse(paths)
    result = run_dbt(warehouse, SEGMENTS_AFTER_FIT, config_file, work=warehouse.parent)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(SEGMENTS_AFTER_FIT)} failed:\n{result.stdout[-8000:]}")
    return warehouse


def query(warehouse: Path, sql: str, params: Sequence = ()) -> list[dict]:
    """Rows of a query on the warehouse (read-only) as dicts."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def table(warehouse: Path, name: str, order_by: str) -> list[dict]:
    return query(warehouse, f"SELECT * FROM {name} ORDER BY {order_by}")


def columns(warehouse: Path, schema: str, name: str) -> list[tuple[str, str]]:
    """(column, type) of a table in order."""
    rows = query(warehouse,
                 "SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", (schema, name))
    return [(r["column_name"], r["data_type"]) for r in rows]


def d(value: str | int) -> Decimal:
    """Decimal from text: fixture and expectation values are never floats."""
    return Decimal(str(value))


def write_config(path: Path, **changes) -> Path:
    """A copy of the default configuration with dotted keys changed, e.g.
    write_config(p, **{"cost_to_serve.late_payment_weight": 10})."""
    import yaml

    from assets.core.settings import DEFAULT_CONFIG_FILE

    cfg = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = cfg
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    load_settings(path)  # the copy must be valid
    return path

"""Running a scenario (methodology §14, docs/scenarios.md): recompute what a configuration changes,
compare it with production and publish the comparison under `<out>/scenarios/<name>/`.

What touches what:
- the warehouse: only the scenario's own schemas `scenario_<name>_<layer>` are dropped and written
  (dbt, with every unselected ref deferred to production's relations); production's schemas are
  read, never written;
- dbt's files: the scenario parses and builds with its own target folders under
  `<out>/scenarios/.work/`, never `dbt_project/target/` (the manifest production runs use);
- the published copy `<out>/published` is not touched; the scenario's tables go to
  `<out>/scenarios/<name>` (a link swapped atomically, like the published copy) and, when
  PostgreSQL is configured, to its `scenarios` schema.
The Dagster job `scenario_run` (orchestration/scenario_jobs.py) calls `run_scenario` in a step of
the `warehouse_writer` pool, so a scenario waits for production runs and they wait for it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from assets.core import dbt_executable
from assets.core.dbt import DBT_PROJECT_DIR
from assets.core.dbt_parse import ensure_parsed
from assets.core.engines import dbt_env, resolve_target
from assets.core.settings import Segmentation, Settings, load_settings
from assets.scenarios.plan import (
    ScenarioError,
    ScenarioPlan,
    build_args,
    check_name,
    plan_scenario,
    scenario_schemas,
)

if TYPE_CHECKING:  # psycopg is imported only when a scenario is published to PostgreSQL
    from assets.publishing.postgres import PostgresTarget

SCENARIOS_DIR = "scenarios"
WORK_DIR = ".work"
VERSIONS_DIR = ".versions"
SCENARIO_MANIFEST = "_scenario.json"
SCENARIO_CONFIG = "scenario.yml"
TABLES = ("scenario_customers", "scenario_migrations", "scenario_segments")
TABLE_KEYS = {
    "scenario_customers": ("scenario", "month", "customer_no"),
    "scenario_migrations": ("scenario", "month", "segmentation", "baseline_segment", "scenario_segment"),
    "scenario_segments": ("scenario", "month", "segmentation", "segment"),
}
PARQUET_FILE = "data.parquet"
VERSIONS_KEPT = 2  # the current result and the one before it (a reader may still be on it)

Log = Callable[[str], None]


def scenarios_root(out: Path) -> Path:
    return Path(out) / SCENARIOS_DIR


def work_dir(out: Path) -> Path:
    return scenarios_root(out) / WORK_DIR


def load_scenario_config(
    name: str, out: Path, *, text: str | None = None, file: Path | None = None
) -> Settings:
    """The scenario's configuration, validated exactly like production's (the error names the key).

    Given as YAML text (the Dagster launchpad), it is kept as `<out>/scenarios/.work/<name>.yml`,
    the file any error message names.
    """
    check_name(name)
    if (text is None) == (file is None):
        raise ScenarioError(
            "give the scenario's configuration exactly once: as a file (config_file) "
            "or as YAML text (config_yaml)"
        )
    if text is not None:
        file = work_dir(out) / f"{name}.yml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return load_settings(file)


# --------------------------------------------------------------------------------------------------
# The baseline: production's marts as they stand.


def month_end(month: str) -> dt.date:
    """`YYYY-MM` → the last day of that month (the marts' `month`)."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ScenarioError(f"month {month!r} is not of the form YYYY-MM") from None
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def baseline_month(con: duckdb.DuckDBPyConnection, month: str | None, production: Settings) -> dt.date:
    """The segment month the scenario is compared at, checked against production's marts.

    The baseline must have been built with production's configuration (its config_version):
    otherwise "no change" could not mean "as production", and the comparison would mislead.
    """
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name = 'customer_segments'"
    ).fetchone()[0]
    if not exists:
        raise ScenarioError("the warehouse has no production marts yet: run `strata materialize` first")
    months = [
        m
        for (m,) in con.execute(
            "SELECT DISTINCT month FROM marts.customer_segments ORDER BY month"
        ).fetchall()
    ]
    if not months:
        raise ScenarioError("production's customer_segments is empty: no segment month to compare at")
    chosen = months[-1] if month is None else month_end(month)
    if chosen not in months:
        raise ScenarioError(
            f"month {month} has no segments in production; segment months are "
            f"{months[0]:%Y-%m} .. {months[-1]:%Y-%m}"
        )
    versions = [
        v
        for (v,) in con.execute(
            "SELECT DISTINCT config_version FROM marts.customer_segments WHERE month = ?", [chosen]
        ).fetchall()
    ]
    if versions != [production.version]:
        raise ScenarioError(
            f"production's marts were built with configuration version {', '.join(versions)}, but the "
            f"production configuration given has version {production.version}: pass the file production "
            "runs with (--production-config, or STRATA_CONFIG)"
        )
    return chosen


# --------------------------------------------------------------------------------------------------
# dbt: production's manifest (what unselected refs defer to) and the scenario's build.


def _dbt(
    args: list[str], warehouse: Path, production: Settings, log_dir: Path
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **dbt_env("duckdb", warehouse, warehouse.parent, production.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cmd = [
        dbt_executable.path(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        "duckdb",
        "--log-path",
        str(log_dir),
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)


def production_manifest(warehouse: Path, production: Settings, state_dir: Path) -> dict[str, Any]:
    """Parse the dbt project with production's vars and warehouse: the relations to defer to.

    The parse (~15 s, most of it dbt starting) is made again only when its inputs changed: the
    project's files, dbt's version, production's vars or the warehouse (assets/core/dbt_parse.py).
    """
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    try:
        ensure_parsed("duckdb", production, into=state_dir,
                      env=dbt_env("duckdb", warehouse, warehouse.parent, production.warehouse))
    except DagsterDbtCliRuntimeError as err:
        raise ScenarioError(
            f"dbt could not parse the project with production's configuration:\n{err}") from err
    return json.loads((state_dir / "manifest.json").read_text(encoding="utf-8"))


def descendants(manifest: dict[str, Any], roots: list[str]) -> list[str]:
    """The models `model+` selects for every root: the roots and every model downstream of them."""
    ids = {n["name"]: uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    seen, todo = set(), [ids[r] for r in roots]
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        todo += [c for c in manifest["child_map"].get(uid, []) if c.startswith("model.")]
    return sorted(manifest["nodes"][uid]["name"] for uid in seen)


def build_scenario_models(
    plan: ScenarioPlan,
    scenario: Settings,
    warehouse: Path,
    production: Settings,
    state_dir: Path,
    target_dir: Path,
) -> dict[str, Any]:
    """`dbt build` of the plan into the scenario's schemas; returns run_results.json.

    A failing model or blocking test fails the scenario, naming them.
    """
    result = _dbt(
        build_args(plan, scenario.dbt_vars(), str(state_dir), str(target_dir)),
        warehouse,
        production,
        target_dir / "logs",
    )
    results_file = target_dir / "run_results.json"
    results = (
        json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {"results": []}
    )
    failed = [
        f"{r['unique_id']}: {r['status']}"
        for r in results["results"]
        if r["status"] in ("error", "fail", "skipped", "runtime error")
    ]
    if result.returncode != 0:
        raise ScenarioError(
            f"the scenario's dbt build failed ({', '.join(failed) or 'see below'}); "
            "production is unchanged:\n"
            f"{result.stdout[-4000:]}{result.stderr[-2000:]}"
        )
    return results


def drop_scenario_schemas(warehouse: Path, name: str) -> list[str]:
    """Drop the scenario's own schemas (exact names: scenario `a` never touches scenario `a_b`)."""
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.IOException as exc:
        raise ScenarioError(
            f"the warehouse {warehouse} is held by another process (a run outside Dagster?); "
            f"try again when it has finished: {exc}"
        ) from None
    try:
        existing = {
            s for (s,) in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
        }
        dropped = [s for s in scenario_schemas(name) if s in existing]
        for schema in dropped:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')
        return dropped
    finally:
        con.close()


# --------------------------------------------------------------------------------------------------
# The comparison (methodology §14; marts.md: scenario_customers, scenario_migrations, scenario_segments)

SEGMENTATIONS = Segmentation.__args__  # the configuration's segmentations, in its order
CUSTOMER_COLUMNS = (
    "stratum",
    "maturity_segment",
    "profitability_quadrant",
    "revenue_tier",
    "cost_to_serve_t12m",
    "contribution_margin_t12m",
)
# A customer with a segment on one side only (possible when the window or the first segment month
# changes): as in segment_transitions, NEW where the baseline has none, INACTIVE where the scenario has none.
NO_BASELINE, NO_SCENARIO = "NEW", "INACTIVE"


def compare(
    con: duckdb.DuckDBPyConnection, name: str, month: dt.date, scenario_marts: str, kpi_marts: str
) -> None:
    """Create temp tables scenario_customers, scenario_migrations and scenario_segments.

    `con` has the warehouse as its default catalog (read-only). The baseline is `marts`; the
    scenario's customer_segments is in `scenario_marts`, its segment_kpis in `kpi_marts` (either is
    production's `marts` when the scenario did not rebuild it).
    """
    pairs = ", ".join(f"b.{c} AS baseline_{c}, s.{c} AS scenario_{c}" for c in CUSTOMER_COLUMNS)
    changed = " OR ".join(f"b.{c} IS DISTINCT FROM s.{c}" for c in CUSTOMER_COLUMNS)
    both = ", ".join(f"b.{c} AS b_{c}, s.{c} AS s_{c}" for c in SEGMENTATIONS)
    con.execute(
        f"""
        CREATE TEMP TABLE joined AS
        SELECT coalesce(b.customer_no, s.customer_no) AS customer_no, b.customer_no IS NOT NULL AS in_b,
               s.customer_no IS NOT NULL AS in_s, {pairs}, {both}, ({changed}) AS changed
        FROM (SELECT * FROM marts.customer_segments WHERE month = $month) b
        FULL OUTER JOIN (SELECT * FROM "{scenario_marts}".customer_segments WHERE month = $month) s
          ON b.customer_no = s.customer_no
    """,
        {"month": month},
    )
    con.execute(
        f"""
        CREATE TEMP TABLE scenario_customers AS
        SELECT CAST($name AS VARCHAR) AS scenario, CAST($month AS DATE) AS month, customer_no,
               {", ".join(f"baseline_{c}, scenario_{c}" for c in CUSTOMER_COLUMNS)},
               CAST(changed AS BOOLEAN) AS changed
        FROM joined ORDER BY customer_no
    """,
        {"name": name, "month": month},
    )
    unpivot = " UNION ALL ".join(
        f"SELECT '{c}' AS segmentation, "
        f"CASE WHEN in_b THEN b_{c} ELSE '{NO_BASELINE}' END AS baseline_segment, "
        f"CASE WHEN in_s THEN s_{c} ELSE '{NO_SCENARIO}' END AS scenario_segment FROM joined"
        for c in SEGMENTATIONS
    )
    con.execute(
        f"""
        CREATE TEMP TABLE scenario_migrations AS
        SELECT CAST($name AS VARCHAR) AS scenario, CAST($month AS DATE) AS month, segmentation,
               baseline_segment, scenario_segment, CAST(count(*) AS BIGINT) AS customers
        FROM ({unpivot}) m
        GROUP BY segmentation, baseline_segment, scenario_segment
        ORDER BY segmentation, baseline_segment, scenario_segment
    """,
        {"name": name, "month": month},
    )
    money = "CAST(0 AS DECIMAL(18,2))"
    con.execute(
        f"""
        CREATE TEMP TABLE scenario_segments AS
        WITH b AS (SELECT * FROM marts.segment_kpis WHERE month = $month),
             s AS (SELECT * FROM "{kpi_marts}".segment_kpis WHERE month = $month),
             j AS (
                SELECT coalesce(b.segmentation, s.segmentation) AS segmentation,
                       coalesce(b.segment, s.segment) AS segment,
                       CAST(coalesce(b.customers, 0) AS BIGINT) AS baseline_customers,
                       CAST(coalesce(s.customers, 0) AS BIGINT) AS scenario_customers,
                       coalesce(b.contribution_margin, {money}) AS baseline_contribution_margin,
                       coalesce(s.contribution_margin, {money}) AS scenario_contribution_margin,
                       coalesce(b.cost_to_serve, {money}) AS baseline_cost_to_serve,
                       coalesce(s.cost_to_serve, {money}) AS scenario_cost_to_serve
                FROM b FULL OUTER JOIN s ON b.segmentation = s.segmentation AND b.segment = s.segment)
        SELECT CAST($name AS VARCHAR) AS scenario, CAST($month AS DATE) AS month, segmentation, segment,
               baseline_customers, scenario_customers, baseline_contribution_margin,
               scenario_contribution_margin, baseline_cost_to_serve, scenario_cost_to_serve,
               scenario_customers - baseline_customers AS customers_difference,
               CAST(scenario_contribution_margin - baseline_contribution_margin AS DECIMAL(18,2))
                   AS contribution_margin_difference,
               CAST(scenario_cost_to_serve - baseline_cost_to_serve AS DECIMAL(18,2))
                   AS cost_to_serve_difference
        FROM j
        -- a segment that had customers only at M-12 has a KPI row with 0 customers: no comparison
        WHERE baseline_customers > 0 OR scenario_customers > 0
        ORDER BY segmentation, segment
    """,
        {"name": name, "month": month},
    )


# --------------------------------------------------------------------------------------------------
# Running one.


@dataclass
class ScenarioResult:
    name: str
    month: dt.date
    changed: list[str]
    roots: list[str]
    rebuilt: list[str]
    folder: Path
    rows: dict[str, int]
    customers_changed: int
    seconds: dict[str, float] = field(default_factory=dict)
    postgres: str | None = None


def run_scenario(
    out: Path,
    name: str,
    scenario: Settings,
    production: Settings,
    *,
    month: str | None = None,
    rebuild_all: bool = False,
    run_id: str = "",
    log: Log = lambda _: None,
    postgres: PostgresTarget | None = None,
) -> ScenarioResult:
    """Recompute, compare and publish the scenario `name` (see the module's docstring); its tables
    also go to `postgres` when given."""
    from assets.scenarios.publish import publish_scenario

    check_name(name)
    started = time.monotonic()
    seconds: dict[str, float] = {}
    target = resolve_target()
    if target != "duckdb":
        raise ScenarioError(f"scenarios run on the DuckDB warehouse only (the dbt target is {target})")
    out = Path(out).resolve()
    warehouse = out / "warehouse.duckdb"
    if not warehouse.is_file():
        raise ScenarioError(f"the warehouse {warehouse} does not exist: run `strata materialize` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        chosen = baseline_month(con, month, production)

    work = work_dir(out)
    state_dir, target_dir = work / "production_state", work / name / "target"
    tick = time.monotonic()
    manifest = production_manifest(warehouse, production, state_dir)
    seconds["parse"] = time.monotonic() - tick
    plan = plan_scenario(name, production.business(), scenario.business(), manifest, rebuild_all)
    rebuilt = descendants(manifest, plan.roots)
    log(
        f"scenario {name}: {len(plan.changed)} setting(s) differ from production "
        f"({', '.join(plan.changed) or 'none'}); rebuilding {len(rebuilt)} model(s)"
    )

    dropped = drop_scenario_schemas(warehouse, name)
    if dropped:
        log(f"dropped the scenario's previous schemas {', '.join(dropped)}")
    tick = time.monotonic()
    if plan.rebuilds:
        shutil.rmtree(target_dir, ignore_errors=True)
        build_scenario_models(plan, scenario, warehouse, production, state_dir, target_dir)
    seconds["dbt_build"] = time.monotonic() - tick

    tick = time.monotonic()
    scenario_marts = plan.prefix + "marts"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        compare(
            con,
            name,
            chosen,
            scenario_marts if "customer_segments" in rebuilt else "marts",
            scenario_marts if "segment_kpis" in rebuilt else "marts",
        )
        seconds["compare"] = time.monotonic() - tick
        customers_changed = con.execute("SELECT count(*) FROM scenario_customers WHERE changed").fetchone()[0]
        description = {
            "scenario": name,
            "month": chosen.isoformat(),
            "run_id": run_id,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "config_version": scenario.version,
            "production_config_version": production.version,
            "changed_settings": plan.changed,
            "rebuild_all": rebuild_all,
            "rebuilt_from": plan.roots,
            "models_rebuilt": rebuilt,
            "customers_changed": customers_changed,
            "schemas": [
                s
                for (s,) in con.execute(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN "
                    "(SELECT unnest($schemas)) ORDER BY schema_name",
                    {"schemas": scenario_schemas(name)},
                ).fetchall()
            ],
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
        }
        tick = time.monotonic()
        folder, rows = publish_scenario(con, out, name, description, scenario, production)
    seconds["publish"] = time.monotonic() - tick
    result = ScenarioResult(
        name=name,
        month=chosen,
        changed=plan.changed,
        roots=plan.roots,
        rebuilt=rebuilt,
        folder=folder,
        rows=rows,
        customers_changed=customers_changed,
        seconds=seconds,
    )

    from assets.publishing.postgres import PostgresPublishError
    from assets.scenarios.postgres import publish_scenario_postgres

    try:
        result.postgres = publish_scenario_postgres(folder, name, log=log, target=postgres)
    except PostgresPublishError as exc:
        raise ScenarioError(
            f"the scenario is published in {folder}, but PostgreSQL was not updated: {exc}"
        ) from None
    seconds["total"] = time.monotonic() - started
    log(
        f"scenario {name} at {chosen:%Y-%m}: {customers_changed} customer(s) changed; published {folder} "
        f"in {seconds['total']:.1f} s"
    )
    return result


def drop_scenario(
    out: Path, name: str, log: Log = lambda _: None, postgres: PostgresTarget | None = None
) -> list[str]:
    """Remove every trace of the scenario: its schemas, its folder and work files, its rows in `postgres`."""
    from assets.scenarios.postgres import drop_scenario_postgres
    from assets.scenarios.publish import remove_scenario_folder

    check_name(name)
    out = Path(out).resolve()
    removed = []
    warehouse = out / "warehouse.duckdb"
    if warehouse.is_file():
        removed += [f"schema {s}" for s in drop_scenario_schemas(warehouse, name)]
    removed += remove_scenario_folder(out, name)
    for leftover in (work_dir(out) / name, work_dir(out) / f"{name}.yml"):
        if leftover.exists():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            removed.append(str(leftover))
    if drop_scenario_postgres(name, log=log, target=postgres):
        removed.append("PostgreSQL rows")
    for item in removed:
        log(f"removed {item}")
    return removed

"""The dbt models (finance core and segments) as Dagster assets, with dbt tests as asset checks.

One `dbt build` runs every selected model and its tests in dependency order: dbt itself skips the
models downstream of a failing error-severity test, and dagster-dbt turns every test into an asset
check (error severity blocking, warn not).

The engine is the `paths` resource's target (docs/spark.md): on `duckdb` dbt builds inside the
warehouse; on `spark` this step first exports the raw layer to `<out>/raw_parquet/` (the files the
Spark target reads), then dbt builds with `--target spark` into `<out>/spark_warehouse/`.
"""

import os

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets import build_planner
from assets.clv.asset import ensure_parquet as ensure_clv_parquet
from assets.core.build_plan import FULL_REFRESH_TAG, BuildPlan, latest_plan
from orchestration.dbt import StrataDbtTranslator, build_args, dbt_project, plan_env, require_manifest
from orchestration.engines import EngineError, dbt_env, export_raw_parquet, require_adapter
from orchestration.resources import StrataPaths

# A run builds the dbt graph in two steps around the predicted-value fit (assets/clv: Dagster splits
# this subsettable multi-asset around it): each step runs the tests whose parents are all built by it
# or before it. dbt's default (eager) would also run, in the first step, a test that reads a model
# of the second step before it is built. dagster-dbt reads this variable when it selects a subset.
INDIRECT_SELECTION = {"DBT_INDIRECT_SELECTION": "buildable"}

# What DuckDB says when another process holds the warehouse: the only dbt failure worth retrying.
WAREHOUSE_LOCKED = "Could not set lock on file"


def target_args(target: str) -> list[str]:
    """The profile output dbt runs with (dbt_project/profiles.yml: duckdb or spark)."""
    return ["--target", target]


def failed_build(err: DagsterDbtCliRuntimeError) -> Exception:
    """A failed `dbt build` as the retry policy should see it.

    A locked warehouse is transient (the jobs' TRANSIENT_RETRY waits it out); anything else (a model
    error, a failing blocking test, a missing FX rate, memory) fails the same way on every try, so
    it fails the step at once instead of three retries and two minutes later.
    """
    if WAREHOUSE_LOCKED in str(err):
        return err
    return dg.Failure(description=str(err), allow_retries=False)


@dbt_assets(
    manifest=require_manifest(),
    project=dbt_project,
    name="dbt_models",
    dagster_dbt_translator=StrataDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    op_tags={"dagster/concurrency_key": "warehouse_writer"},
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: StrataPaths):
    # The dbt profile reads the warehouse path (and on Spark the Parquet folders) from the
    # environment (dbt_project/profiles.yml); this step is the only writer of the warehouse while
    # it runs.
    target, settings = paths.target, paths.settings()
    try:
        require_adapter(target)
    except EngineError as err:  # an install to fix, not a transient failure
        raise dg.Failure(description=str(err), allow_retries=False) from err
    os.environ.update(dbt_env(target, paths.warehouse, paths.out, settings.warehouse))
    os.environ.update(INDIRECT_SELECTION)
    if target == "spark":
        rows = export_raw_parquet(paths.warehouse, paths.raw_parquet)
        ensure_clv_parquet(paths.raw_parquet)
        context.log.info(f"raw layer exported for Spark: {len(rows)} tables, {sum(rows.values())} rows "
                         f"-> {paths.raw_parquet}")
    plan = this_runs_plan(context, paths) if target == "duckdb" else None
    before = {k: os.environ.get(k) for k in plan_env(plan)}
    os.environ.update(plan_env(plan))  # dbt's process reads the plan's months from here
    try:
        yield from dbt.cli([*build_args(settings, plan), *target_args(target)], context=context).stream()
    except DagsterDbtCliRuntimeError as err:
        raise failed_build(err) from err
    finally:  # the plan is this step's, never a later dbt process's in the same Python process
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if plan is not None:
        with duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config()) as con:
            keys = {k.to_user_string() for k in context.assets_def.keys}
            built = {k.to_user_string() for k in context.selected_asset_keys}
            build_planner.finish_step(con, context.run_id, built, keys)


def this_runs_plan(context: dg.AssetExecutionContext, paths: StrataPaths) -> BuildPlan:
    """The months this run's dbt build recomputes (docs/incremental.md): planned by the first dbt
    step of the run and recorded (audit.build_plans), reused by its later steps."""
    settings = paths.settings()
    with duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config()) as con:
        plan = latest_plan(con)
        if plan is None or plan.run_id != context.run_id:
            plan = build_planner.prepare_build(
                con, context.run_id, settings, full_refresh=context.run.tags.get(FULL_REFRESH_TAG) == "true")
    context.log.info(f"build plan: {plan.mode}: {plan.reason}")
    return plan

"""The dbt models (finance core and segments) as Dagster assets, with dbt tests as asset checks.

One `dbt build` runs every selected model and its tests in dependency order: dbt itself skips the
models downstream of a failing error-severity test, and dagster-dbt turns every test into an asset
check (error severity blocking, warn not).

The engine is the `paths` resource's target (docs/spark.md): on `duckdb` dbt builds inside the
warehouse; on `spark` this step first exports the raw layer to `<out>/raw_parquet/` (the files the
Spark target reads), then dbt builds with `--target spark` into `<out>/spark_warehouse/`.
"""

from functools import cache

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets import build_planner
from assets.clv.asset import ensure_parquet as ensure_clv_parquet
from assets.core.build_plan import FULL_REFRESH_TAG, BuildPlan, latest_plan
from assets.core.dbt import (
    INDIRECT_SELECTION,
    StrataDbtTranslator,
    build_args,
    dbt_project,
    failed_build,
    plan_env,
    require_manifest,
    stopped_on_exit,
    target_args,
)
from assets.core.dbt_parse import ensure_run_parsed
from assets.core.engines import EngineError, dbt_env, environment, export_raw_parquet, require_adapter
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries


@cache
def dbt_models() -> dg.AssetsDefinition:
    """The `dbt_models` multi-asset, built from the manifest once per process when first asked for."""
    # Every dbt asset's key: a run's build is COMPLETE once its steps have built them all. (Dagster
    # runs the multi-asset in two steps around `clv_fits`; a step's `context.assets_def` is its own
    # subset, so it cannot tell.)
    every_key: set[str] = set()

    @dbt_assets(
        manifest=require_manifest(),
        project=dbt_project(),
        name="dbt_models",
        dagster_dbt_translator=StrataDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        pool=WAREHOUSE_WRITER_POOL,
    )
    @transient_retries
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: StrataPaths):
        # The dbt profile reads the warehouse path (and on Spark the Parquet folders) from the
        # environment (dbt_project/profiles.yml); this step is the only writer of the warehouse while
        # it runs.
        target, settings = paths.target, paths.settings()
        try:
            require_adapter(target)
        except EngineError as err:  # an install to fix, not a transient failure
            raise dg.Failure(description=str(err)) from err
        if target == "spark":
            rows = export_raw_parquet(paths.warehouse, paths.raw_parquet)
            ensure_clv_parquet(paths.raw_parquet)
            context.log.info(f"raw layer exported for Spark: {len(rows)} tables, {sum(rows.values())} rows "
                             f"-> {paths.raw_parquet}")
        plan = this_runs_plan(context, paths) if target == "duckdb" else None
        # The output folder's saved parse, which every dbt call of the run reuses: made here once
        # per folder (or waited for, when `strata materialize` started it beside the loads).
        if ensure_run_parsed(target, paths.warehouse, paths.out, settings):
            context.log.info(f"dbt project parsed for {paths.out} (once per output folder)")
        # dbt's process reads the profile's settings and the plan's months from the environment
        env = {**dbt_env(target, paths.warehouse, paths.out, settings.warehouse), **INDIRECT_SELECTION,
               **plan_env(plan)}
        with environment(env):
            try:
                args = [*build_args(settings, plan), *target_args(target)]
                with stopped_on_exit(dbt.cli(args, context=context)) as invocation:
                    yield from invocation.stream()
            except DagsterDbtCliRuntimeError as err:
                raise failed_build(err) from err
        if plan is not None:
            with duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config()) as con:
                built = {k.to_user_string() for k in context.selected_asset_keys}
                build_planner.finish_step(con, context.run.run_id, built, every_key)

    every_key.update(k.to_user_string() for k in dbt_models.keys)
    return dbt_models


def this_runs_plan(context: dg.AssetExecutionContext, paths: StrataPaths) -> BuildPlan:
    """The months this run's dbt build recomputes (docs/incremental.md): planned by the first dbt
    step of the run and recorded (audit.build_plans), reused by its later steps."""
    settings = paths.settings()
    with duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config()) as con:
        plan = latest_plan(con)
        run = context.run
        if plan is None or plan.run_id != run.run_id:
            plan = build_planner.prepare_build(
                con, run.run_id, settings, full_refresh=run.tags.get(FULL_REFRESH_TAG) == "true")
    context.log.info(f"build plan: {plan.mode}: {plan.reason}")
    return plan

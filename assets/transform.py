"""The dbt models (finance core and segments) as Dagster assets, with dbt tests as asset checks.

One `dbt build` runs every selected model and its tests in dependency order: dbt itself skips the
models downstream of a failing error-severity test, and dagster-dbt turns every test into an asset
check (error severity blocking, warn not).
"""

import os

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.dbt import StrataDbtTranslator, build_args, dbt_project, require_manifest
from orchestration.resources import StrataPaths

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
    # The dbt profile reads the warehouse path from the environment (dbt_project/profiles.yml);
    # this step is the only writer of the warehouse while it runs.
    os.environ["STRATA_WAREHOUSE"] = str(paths.warehouse)
    yield from dbt.cli(build_args(paths.settings()), context=context).stream()

"""The Dagster definitions: every asset, check, job and resource of strata.

`build_definitions(paths)` is the one place the graph is assembled: `dagster dev -w workspace.yaml`
loads `defs` (the `paths` resource from the STRATA_* environment variables, when Dagster loads it)
and `strata materialize` builds the same graph for its folders, so the CLI never runs a parallel code
path. Importing this module builds nothing: the dbt project and its assets are built when asked for.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from assets.clv.asset import clv_fits
from assets.core import dbt_executable
from assets.core.dbt import dbt_project
from assets.core.partitions import month_partitions
from assets.core.resources import StrataPaths, paths_from_env, settings_from_env
from assets.core.settings import Settings
from assets.dbt_docs import dbt_docs
from assets.dbt_models import dbt_models as build_dbt_models
from assets.finance_export import finance_export
from assets.ingestion.assets import ingestion_assets
from assets.publishing import build_published_marts
from assets.publishing.postgres import postgres_marts
from assets.report import segment_report
from orchestration.alerts import ALL_ALERT_SENSORS
from orchestration.catalog import with_catalog_defaults
from orchestration.jobs import ALL_JOBS, materialize_all  # noqa: F401 - materialize_all: the runner's job
from orchestration.scenario_jobs import SCENARIO_JOBS
from orchestration.schedules import build_schedules
from orchestration.sensors import ALL_SENSORS
from quality.checks import all_checks


def build_definitions(paths: StrataPaths, settings: Settings | None = None) -> dg.Definitions:
    """The whole graph over `paths`; the month partitions start at `settings`' first month (by
    default the configuration file of `paths`)."""
    months = month_partitions((settings or paths.settings()).partitions.first_month)
    loads = ingestion_assets(months)
    dbt_models = build_dbt_models()
    published_marts = build_published_marts(dbt_models)
    return dg.Definitions(
        assets=with_catalog_defaults(
            [*loads, dbt_models, clv_fits, published_marts, postgres_marts, segment_report,
             finance_export, dbt_docs]
        ),
        asset_checks=all_checks([*loads, dbt_models]),
        jobs=[*ALL_JOBS, *SCENARIO_JOBS],  # scenario_run / scenario_drop: docs/scenarios.md
        schedules=build_schedules(paths.timezone),
        sensors=[*ALL_SENSORS, *ALL_ALERT_SENSORS],
        resources={
            "paths": paths,
            # strata-dbt: dbt itself, answering dagster-dbt's `dbt --version` without importing dbt
            "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable.path()),
        },
        # Every step opens the one DuckDB warehouse: runs (UI materialisations and asset
        # backfills too) execute their steps one after the other in one process.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -w workspace.yaml` and `dg check defs` load, when they load it (importing
    this module builds nothing): the `paths` resource and the configuration from the STRATA_*
    environment variables."""
    return build_definitions(paths_from_env(), settings_from_env())

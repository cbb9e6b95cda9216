"""The Dagster definitions: every asset, check, job and resource of strata.

`build_definitions(paths)` is the one place the graph is assembled: `dagster dev -w workspace.yaml`
loads `defs` (paths from STRATA_* environment variables) and `strata materialize` builds the same
graph for its folders, so the CLI never runs a parallel code path.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from assets.ingestion.assets import ingestion_assets
from assets.publishing import build_published_marts
from assets.transform import dbt_models
from orchestration.dbt import dbt_project
from orchestration.resources import StrataPaths, paths_from_env

published_marts = build_published_marts(dbt_models)

materialize_all = dg.define_asset_job(
    "materialize_all",
    selection=dg.AssetSelection.all(),
    description="Load every landing batch of the selected months, rebuild the finance and segment "
    "marts, run every check and publish.",
)


def build_definitions(paths: StrataPaths) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ingestion_assets, dbt_models, published_marts],
        jobs=[materialize_all],
        resources={"paths": paths, "dbt": DbtCliResource(project_dir=dbt_project)},
    )


defs = build_definitions(paths_from_env())

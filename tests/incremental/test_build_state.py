"""A build is COMPLETE once one run has built every dbt asset (docs/incremental.md): the next
plan measures what changed against it. A run that builds only some of them (one model from the
Dagster UI; or a run that stopped between its two dbt steps) leaves its build PENDING, and the next
plan rebuilds everything."""

from __future__ import annotations

import dagster as dg
import duckdb

from assets import build_planner
from tests.orchestration.test_retries_and_alerts import FX, one_batch_setup


def test_a_run_that_builds_some_dbt_assets_leaves_its_build_pending(tmp_path):
    defs, paths, instance = one_batch_setup(tmp_path)
    job = defs.resolve_job_def("rerun_month")
    staged = dg.AssetKey(["staging", "stg_erp__fx_rates"])
    result = job.execute_in_process(instance=instance, partition_key="2026-10", asset_selection=[FX, staged],
                                    raise_on_error=False)
    assert result.success
    assert [k for k in result.dagster_run.asset_selection if k != FX] == [staged]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT status FROM audit.build_state").fetchall() == [("PENDING",)]
        assert build_planner.read_state(con) is None

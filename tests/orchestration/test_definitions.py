"""The definitions load, resolve every job, schedule and sensor, and follow the catalog conventions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.core.contract import entities
from assets.core.partitions import month_partitions
from assets.core.settings import load_settings
from orchestration.dagster_instances import LOCAL_CONFIG, install
from orchestration.jobs import ALL_JOBS, WAREHOUSE_TAG_KEY
from tests.orchestration.helpers import build_defs, local_instance, step_retry_policy
from tests.support.ci import missing

REPO = Path(__file__).resolve().parents[2]
JOBS = {"nightly_refresh", "month_end_close", "backfill_history", "rerun_month", "load_landed_batches",
        "materialize_all"}
SCHEDULES = {"nightly_refresh_schedule", "month_end_close_schedule"}
SENSORS = {"landing_sensor", "run_failure_alert"}
GROUPS = {"ingestion_erp", "ingestion_crm", "ingestion_psa", "finance", "segments", "quality", "publishing"}
POOL = "warehouse_writer"
FIRST_MONTH = load_settings().partitions.first_month


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    root = tmp_path_factory.mktemp("defs")
    return build_defs(root / "landing", root / "out")[0]


def test_the_module_definitions_are_loadable():
    from orchestration.definitions import defs as module_defs

    dg.Definitions.validate_loadable(module_defs())


def test_importing_the_definitions_builds_nothing():
    """The dbt project and the dbt assets are built when Dagster loads `defs`, not at import."""
    code = (
        "import orchestration.definitions, assets.core.dbt, assets.dbt_models\n"
        "print(assets.core.dbt.dbt_project.cache_info().currsize, assets.dbt_models.dbt_models.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["0", "0"]


def test_every_job_schedule_and_sensor_resolves(defs):
    repo = defs.get_repository_def()
    assert {j.name for j in ALL_JOBS} == JOBS
    assert {s.name for s in repo.schedule_defs} == SCHEDULES
    assert {s.name for s in repo.sensor_defs} == SENSORS
    for name in JOBS:
        job = defs.resolve_job_def(name)
        assert job.executor_def.name == "in_process"
        assert job.tags[WAREHOUSE_TAG_KEY] == "write"
        assert job.partitions_def == month_partitions(FIRST_MONTH)
        assert job.description
    for name in JOBS - {"materialize_all"}:
        job = defs.resolve_job_def(name)
        assert int(job.tags["dagster/max_runtime"]) >= 3600
        assert job.tags["dagster/max_retries"] == "1"
    assert "dagster/max_retries" not in defs.resolve_job_def("materialize_all").tags
    for name in SCHEDULES:
        defs.resolve_schedule_def(name)
    for name in SENSORS:
        defs.resolve_sensor_def(name)
    assert repo.get_sensor_def("landing_sensor").job_name == "load_landed_batches"
    assert repo.get_sensor_def("run_failure_alert").default_status == dg.DefaultSensorStatus.RUNNING
    assert repo.get_sensor_def("landing_sensor").default_status == dg.DefaultSensorStatus.STOPPED


def test_every_warehouse_step_is_in_the_one_writer_pool_and_retried(defs):
    """Ingestion, dbt, the publisher and the docs site (dbt's catalog) open warehouse.duckdb; the other
    publishing assets read the published copy. Retried: a step retries its transient failures itself
    (assets/core/retries.py, tests/orchestration/test_retries_and_alerts.py); no step has a retry
    policy, which would turn an interrupt into a retry."""
    job = defs.resolve_job_def("nightly_refresh")
    warehouse_steps = {f"{s}__{e}" for s, e in entities()} | {"dbt_models", "published_marts", "dbt_docs"}
    nodes = {node.name: node for node in job.graph.node_defs}
    assert warehouse_steps <= nodes.keys()
    for name in warehouse_steps:
        node = nodes[name]
        assert node.pool == POOL, name
    # One way to declare the pool: `pool=`, never the legacy concurrency-key tag.
    assert not [n for n in nodes if "dagster/concurrency_key" in nodes[n].tags]
    for name in job.graph.node_dict:  # every step
        assert step_retry_policy(job, name) is None, name


def test_ingestion_backfills_are_single_runs(defs):
    graph = defs.resolve_asset_graph()
    ingestion = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name.startswith("ingestion_")]
    assert len(ingestion) == 16
    for key in ingestion:
        policy = graph.get(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, key
    assert defs.resolve_job_def("backfill_history").backfill_policy.max_partitions_per_run is None


def test_assets_are_grouped_described_owned_and_tagged(defs):
    graph = defs.resolve_asset_graph()
    groups = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.add(node.group_name)
        assert node.group_name in GROUPS, key
        assert node.description, key
        assert node.owners, key
        assert any(not t.startswith("dagster/") for t in node.tags), key
    assert {"ingestion_erp", "ingestion_crm", "ingestion_psa", "finance", "segments", "publishing"} <= groups


def test_no_deprecation_warnings_from_our_code():
    """Loading the code location (as `dagster dev` does) warns about nothing of ours."""
    code = (
        "import json, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import dagster as dg\n"
        "    from orchestration.definitions import defs\n"
        "    dg.Definitions.validate_loadable(defs())\n"
        "    for job in defs().resolve_all_job_defs(): pass\n"
        "print(json.dumps([[w.category.__name__, w.filename, str(w.message)[:300]] for w in caught]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONWARNINGS": "always"})
    assert out.returncode == 0, out.stderr[-3000:]
    caught = json.loads(out.stdout.strip().splitlines()[-1])
    ours = [w for w in caught
            if any(cat in w[0] for cat in ("Deprecation", "Supersession", "Beta", "Preview"))
            and "sqlglotrs" not in w[2]]  # a third-party package announcing its own deprecation
    assert ours == [], ours


def test_dg_check_defs():
    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")
    if dg_cli is None:
        missing("dg (dagster-dg-cli, the dev group) is not installed: uv sync")
    out = subprocess.run([dg_cli, "check", "defs"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def test_local_instance_config(tmp_path):
    instance = local_instance(tmp_path / "home")
    config = instance.get_concurrency_config()
    assert config.pool_config.default_pool_limit == 1
    assert config.pool_config.pool_granularity.value == "op"
    assert config.run_queue_config.tag_concurrency_limits == [
        {"key": WAREHOUSE_TAG_KEY, "value": "write", "limit": 1}]
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert instance.run_monitoring_enabled and instance.run_retries_enabled
    assert not yaml.safe_load(LOCAL_CONFIG.read_text())["telemetry"]["enabled"]


def test_install_keeps_an_operators_config_and_upgrades_the_old_default(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # what earlier versions wrote
    install(home)
    assert (home / "dagster.yaml").read_text() == LOCAL_CONFIG.read_text()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    install(home)
    assert "nux" in (home / "dagster.yaml").read_text()


def test_the_runner_uses_the_local_config(tmp_path):
    from orchestration.runner import open_instance

    instance = open_instance(tmp_path / "out")
    assert (tmp_path / "out" / "dagster_home" / "dagster.yaml").read_text() == LOCAL_CONFIG.read_text()
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def test_every_quality_check_is_wired(defs):
    """If a refactoring drops the quality checks from the Definitions this fails at once (the
    end-to-end quality tests would fail too, but only in the slow suite; none of them skips)."""
    from quality.checks import check_defs

    wired = {(key.asset_key.path[-1], key.name) for checks in defs.asset_checks or [] for key in checks.check_keys}
    expected = {(c.asset_key.path[-1], c.name) for c in check_defs()}
    assert expected <= wired, f"checks not wired into the definitions: {sorted(expected - wired)}"

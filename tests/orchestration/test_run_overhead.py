"""What keeps a run's fixed cost down: the run's SQLite storage held open while it writes
(orchestration/dagster_instances/wal.py), `strata-dbt` answering dagster-dbt's version question
(assets/core/dbt_executable.py) and one dbt parse shared by every output folder
(assets/core/dbt_parse.py)."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import subprocess
import uuid
from importlib.metadata import version
from pathlib import Path

import dagster as dg

from assets.core import dbt_executable
from assets.core.build_plan import INCREMENTAL, BuildPlan
from assets.core.dbt import DBT_PROJECT_DIR, plan_env, vars_arg
from assets.core.dbt_parse import ensure_run_parsed
from assets.core.engines import dbt_env
from assets.core.settings import load_settings
from orchestration.dagster_instances import dagster_home, open_instance
from orchestration.dagster_instances.wal import in_wal_mode, kept_open, storage_files
from tests.orchestration.helpers import build_defs


@dg.op
def _noop() -> None:
    pass


@dg.job
def _one_step() -> None:
    _noop()


def _wal_files(home: Path) -> set[str]:
    return {p.name for p in (home / "history").rglob("*-wal")}


def test_a_held_storage_file_keeps_its_log_between_dagster_writes(tmp_path):
    instance = open_instance(tmp_path)
    home, run_id = dagster_home(tmp_path), str(uuid.uuid4())
    run = instance.create_run_for_job(_one_step, run_id=run_id)
    instance.report_engine_event("created", run)  # creates the run's own file
    # Unheld: the connection Dagster closes after each write is the last one, so SQLite checkpoints
    # the log into the file and removes it, every time.
    assert f"{run_id}.db-wal" not in _wal_files(home)
    with kept_open(home, run_id):
        instance.report_engine_event("held", run)
        assert f"{run_id}.db-wal" in _wal_files(home)  # Dagster's close was not the last one
    assert f"{run_id}.db-wal" not in _wal_files(home)  # the held connection's close checkpointed
    messages = [r.event_log_entry.message for r in instance.get_records_for_run(run_id).records]
    assert "held" in messages


def test_the_run_file_is_held_as_soon_as_the_run_creates_it(tmp_path):
    instance = open_instance(tmp_path)
    home, run_id = dagster_home(tmp_path), str(uuid.uuid4())
    with kept_open(home, run_id):
        result = _one_step.execute_in_process(instance=instance, run_id=run_id)
        assert result.success
        assert f"{run_id}.db-wal" in _wal_files(home)
    assert not _wal_files(home)


def test_nothing_is_created_or_held_that_is_not_a_wal_file(tmp_path):
    home = tmp_path / "home"
    (home / "history").mkdir(parents=True)
    plain = home / "history" / "runs.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()  # rollback-journal mode
    assert not in_wal_mode(plain)
    with kept_open(home, "missing-run"):
        pass
    files = {p for p in storage_files(home, "missing-run") if p.exists()}
    assert files == {plain}


def test_strata_dbt_answers_the_version_as_dbt_does():
    out = subprocess.run([dbt_executable.path(), "--version"], capture_output=True, text=True, check=True).stdout
    # dagster-dbt reads the first x.y.z of the answer as dbt Core's version
    assert re.search(r"(\d+\.\d+\.\d+)", out).group(1) == version("dbt-core")


def test_strata_dbt_is_dbt_for_every_other_command():
    run = subprocess.run([dbt_executable.path(), "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and "build" in run.stdout and "parse" in run.stdout


def test_the_dbt_resource_runs_strata_dbt(tmp_path):
    defs, _ = build_defs(tmp_path / "landing", tmp_path / "out")
    assert defs.resources["dbt"].dbt_executable == dbt_executable.path()


def _parse(out: Path, settings, logs: Path, **extra_env: str) -> str:
    env = {**os.environ, **dbt_env("duckdb", out / "warehouse.duckdb", out, settings.warehouse),
           "DBT_LOG_PATH": str(logs), **extra_env}
    run = subprocess.run([dbt_executable.path(), "parse", *vars_arg(settings), "--target", "duckdb"],
                         cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    return run.stdout


def test_a_new_output_folder_reuses_the_shared_parse_and_dbt_does_not_parse_again(tmp_path):
    # The profile is the same for every output folder (the warehouse by its file name, dbt run in
    # its folder), so a parse made for one folder is valid in another: dbt finds nothing to parse.
    settings = load_settings()
    first, second = tmp_path / "a", tmp_path / "b"
    ensure_run_parsed("duckdb", first / "warehouse.duckdb", first, settings)  # parses, or copies one
    assert ensure_run_parsed("duckdb", second / "warehouse.duckdb", second, settings) is False  # copied
    stdout = _parse(second, settings, tmp_path / "logs")
    assert "Unable to do partial parsing" not in stdout, stdout[-3000:]


def test_a_build_plan_does_not_make_dbt_parse_any_model_again(tmp_path):
    # Every dbt step passes its run's plan in STRATA_BUILD_PLAN (assets/core/dbt.py: plan_env). A
    # model that read it while dbt parses would be parsed again in every step of every run, since
    # dbt compares the values of the environment variables a file read with the saved parse's.
    settings = load_settings()
    ensure_run_parsed("duckdb", tmp_path / "warehouse.duckdb", tmp_path, settings)
    plan = BuildPlan(run_id="r", mode=INCREMENTAL, reason="test", fact_months=frozenset({dt.date(2026, 9, 30)}))
    _parse(tmp_path, settings, tmp_path / "logs", **plan_env(plan))
    log = (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8")  # dbt's debug log
    assert "Partial parsing: updated file" not in log, re.findall(r"updated file: \S+", log)
    assert "no changes found, skipping parsing" in log, log[-3000:]

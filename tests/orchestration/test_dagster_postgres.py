"""The production instance configuration against the real PostgreSQL server.

A throwaway database on the server of STRATA_TEST_POSTGRES_URL (default: the local server, user
postgres); the connection reaches Dagster only through the DAGSTER_PG_* environment variables the
production dagster.yaml reads. In CI (CI=true) an unreachable server fails the test; elsewhere it
is skipped with the reason.
"""

from __future__ import annotations

import secrets

import dagster as dg
import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from orchestration.dagster_instances import PRODUCTION_CONFIG, install
from tests.orchestration.helpers import build_defs, write_fx
from tests.support.postgres import ADMIN_URL, admin_connection

FX = dg.AssetKey(["erp", "fx_rates"])


@pytest.fixture
def pg_env(monkeypatch):
    """A new empty database, exposed as the DAGSTER_PG_* variables; dropped afterwards."""
    admin = admin_connection()
    dbname = f"strata_dagster_test_{secrets.token_hex(4)}"
    info = conninfo_to_dict(make_conninfo(ADMIN_URL, dbname=dbname))
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            monkeypatch.setenv("DAGSTER_PG_HOST", str(info.get("host", "127.0.0.1")))
            monkeypatch.setenv("DAGSTER_PG_PORT", str(info.get("port", "5432")))
            monkeypatch.setenv("DAGSTER_PG_USER", str(info.get("user", "postgres")))
            monkeypatch.setenv("DAGSTER_PG_PASSWORD", str(info.get("password", "")))
            monkeypatch.setenv("DAGSTER_PG_DB", dbname)
            yield make_conninfo(ADMIN_URL, dbname=dbname)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def test_production_instance_keeps_runs_events_and_schedules_in_postgres(pg_env, tmp_path):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home = tmp_path / "dagster_home"
    install(home, PRODUCTION_CONFIG)
    landing = tmp_path / "landing"
    write_fx(landing, "2026-10")
    defs, paths = build_defs(landing, tmp_path / "out")

    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits

        # a real run through it: the run, its events and the pool slot all in PostgreSQL
        result = defs.resolve_job_def("rerun_month").execute_in_process(
            instance=instance, partition_key="2026-10", asset_selection=[FX])
        assert result.success
        assert instance.get_latest_materialization_event(FX).dagster_event.partition == "2026-10"
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits.get("warehouse_writer") == 1

        # a sensor's state (what the daemon stores per tick) goes to the schedule storage
        with dg.build_sensor_context(instance=instance, definitions=defs, resources={"paths": paths}) as ctx:
            tick = defs.resolve_sensor_def("landing_sensor")(ctx)
        assert tick.cursor

    with psycopg.connect(pg_env) as conn:
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM event_logs").fetchone()[0]
        partitions = conn.execute(
            "SELECT DISTINCT partition FROM event_logs WHERE asset_key = %s AND partition IS NOT NULL",
            [FX.to_string()]).fetchall()
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert runs == 1 and events > 10
    assert partitions == [("2026-10",)]
    assert {"runs", "event_logs", "jobs", "job_ticks", "concurrency_limits"} <= tables


def test_production_config_takes_the_connection_from_the_environment():
    db = yaml.safe_load(PRODUCTION_CONFIG.read_text())["storage"]["postgres"]["postgres_db"]
    assert {k: v for k, v in db.items() if k != "scheme"} == {
        "hostname": {"env": "DAGSTER_PG_HOST"}, "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"}, "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }
    assert db["scheme"] == "postgresql+psycopg2"

"""Fixtures of the reliability tests.

`clean` is the session's `sample_run` (tests/conftest.py): a generated landing folder materialised
once, the reference every fault test's rerun is compared with, row for row. The tests never change
its folders; they work on copies.

`compiled` is one `dbt compile` of the models whose SQL the property and settings tests execute
directly (the allocation chain, the playbook, the KPI targets), with a configuration whose texts
hold quotes and SQL: the SQL the models really run, rendered once, executed many times.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.harness import published_rows
from tests.support.shared import once_per_run
from tests.support.warehouse import run_dbt, write_config

# Texts with a quote, a double quote, a backslash, a semicolon and a comment, as a finance user may
# type them (and as an attacker would): they must reach the marts as text, never as SQL.
HOSTILE_TEXT = "Partner's \"growth\" plan\\; DROP TABLE marts.segment_kpis; --"
HOSTILE_SEGMENT = "VAR'; SELECT 1; --"

COMPILED_MODELS = ("int_cost_pool_rates", "int_cost_allocation", "int_cost_pools",
                   "account_playbook", "kpi_target_status")


@dataclass(frozen=True)
class Clean:
    landing: Path
    out: Path
    summary: object
    rows: dict


@pytest.fixture(scope="session")
def clean(sample_run) -> Clean:
    summary, report = sample_run
    out = Path(report.warehouse).parent
    return Clean(landing=summary.landing_root, out=out, summary=summary, rows=published_rows(out))


@dataclass(frozen=True)
class Compiled:
    warehouse: Path  # a copy of the clean run's warehouse, the compile's database
    config: Path
    sql: dict[str, str]

    def __repr__(self) -> str:  # hypothesis prints its arguments: not the whole SQL
        return f"Compiled({self.warehouse})"


@pytest.fixture(scope="session")
def compiled(clean, tmp_path_factory) -> Compiled:
    """Compiled once per test run (once for all xdist workers: tests/support/shared.py)."""
    return once_per_run(tmp_path_factory, "compiled", lambda work: _compile(clean, work))


def _compile(clean: Clean, work: Path) -> Compiled:
    warehouse = work / "warehouse.duckdb"
    shutil.copy(clean.out / "warehouse.duckdb", warehouse)
    config = write_config(
        work / "strata.yml",
        **{"segments.playbook.TRANSFORM.key_initiative": HOSTILE_TEXT,
           "segments.playbook.SUSTAIN.relationship_owner": "O'Brien & \"Sons\"",
           "kpis.targets": [{"kpi": "retention_rate", "segmentation": "stratum",
                             "segments": [HOSTILE_SEGMENT], "low": 0.5}]},
    )
    result = run_dbt(warehouse, ["compile", "--select", *COMPILED_MODELS], config_file=config, work=work)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    sql = {}
    for name in COMPILED_MODELS:
        [path] = (work / "dbt_target" / "compiled").rglob(f"{name}.sql")
        sql[name] = path.read_text(encoding="utf-8")
    return Compiled(warehouse=warehouse, config=config, sql=sql)


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway database and BI role on STRATA_TEST_POSTGRES_URL (as tests/publishing),
# published to by a real run whose environment carries a password and an alert webhook URL.

SECRET_PASSWORD = "S3cr3t-pw-rel"  # noqa: S105 - fake: the local server trusts, the text must not leak
SECRET_WEBHOOK = "https://hooks.example.invalid/services/T000/B000/rel-secret-token"


@dataclass
class PostgresTarget:
    admin_url: str
    dbname: str
    bi_role: str
    env: dict

    def check_least_privilege(self) -> None:
        from tests.reliability.least_privilege import check_bi_role

        check_bi_role(self.admin_url, self.dbname, self.bi_role)


@pytest.fixture(scope="session")
def postgres_target():
    import os
    import secrets

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from tests.support.postgres import ADMIN_URL, admin_connection

    admin = admin_connection()
    suffix = secrets.token_hex(4)
    dbname, role = f"strata_rel_{suffix}", f"strata_bi_rel_{suffix}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = make_conninfo(ADMIN_URL, dbname=dbname, password=SECRET_PASSWORD)
    env = {"STRATA_POSTGRES_URL": url, "STRATA_POSTGRES_BI_ROLE": role,
           "STRATA_ALERT_WEBHOOK_URL": SECRET_WEBHOOK}
    assert SECRET_PASSWORD not in ADMIN_URL and "STRATA_POSTGRES_URL" not in os.environ
    yield PostgresTarget(ADMIN_URL, dbname, role, env)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

"""Fixtures of the publishing tests: a marts warehouse built once per session, a PostgreSQL database,
headless Chromium."""

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from assets.publishing.postgres import PostgresTarget
from tests.publishing.fixture import build_marts_warehouse
from tests.support.ci import in_ci
from tests.support.postgres import ADMIN_URL, admin_connection


@pytest.fixture(scope="session")
def marts_warehouse_template(tmp_path_factory) -> Path:
    """The fixture warehouse (stamped with run id `template`), built once."""
    return build_marts_warehouse(tmp_path_factory.mktemp("template") / "warehouse.duckdb", run_id="template")


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An output folder whose path holds a single quote and a space (SQL text must escape it)."""
    out = tmp_path / "o'brien out"
    out.mkdir()
    return out


@pytest.fixture
def warehouse(out_dir, marts_warehouse_template) -> Path:
    """A private copy of the fixture warehouse at `<out>/warehouse.duckdb`."""
    target = out_dir / "warehouse.duckdb"
    shutil.copyfile(marts_warehouse_template, target)
    return target


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway database (and BI role) per test session on the server of
# STRATA_TEST_POSTGRES_URL (default: the local server, user postgres). In CI (CI=true) an unreachable
# server fails the tests; elsewhere they are skipped with the reason.

@dataclass(frozen=True)
class PgTestDatabase:
    url: str
    dbname: str
    bi_role: str

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url, **kwargs)

    def target(self, **kwargs) -> PostgresTarget:
        return PostgresTarget(conninfo=self.url, bi_role=self.bi_role, **kwargs)


@pytest.fixture(scope="session")
def pg_database() -> PgTestDatabase:
    admin = admin_connection()
    suffix = secrets.token_hex(4)
    dbname, role = f"strata_test_{suffix}", f"strata_bi_test_{suffix}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            yield PgTestDatabase(url=make_conninfo(ADMIN_URL, dbname=dbname), dbname=dbname, bi_role=role)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def analyst(pg_database):
    """An analyst's login: the BI role plus CREATE on a schema of its own (where dashboards' views
    live). Yields its connection string; the schema and the login are dropped afterwards."""
    name = f"analyst_{pg_database.dbname.removeprefix('strata_test_')}"
    with pg_database.connect(autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [pg_database.bi_role]).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(pg_database.bi_role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(pg_database.bi_role), sql.Identifier(name))
        )
        admin.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(name), sql.Identifier(name))
        )
        try:
            yield make_conninfo(pg_database.url, user=name)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


# --------------------------------------------------------------------------------------------------
# A whole real run (generator → Dagster → marts → publishing): the session's `sample_run`.


@pytest.fixture(scope="session")
def e2e_run(sample_run):
    """(landing root, RunReport) of one successful `orchestration.runner.materialize`. Do not modify."""
    summary, report = sample_run
    return Path(summary.landing_root), report


# --------------------------------------------------------------------------------------------------
# Headless Chromium for the report's tests: Debian's `chromium`, driven by Playwright (which downloads
# no browser of its own). In CI a missing chromium is installed with apt-get, else the tests fail;
# elsewhere they skip.


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium (Debian's `chromium`); installed here in CI if missing, else the test skips."""
    found = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    if found:
        return found
    if not in_ci():
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    if shutil.which("apt-get") and os.geteuid() == 0:
        for command in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
        ):
            subprocess.run(
                command,
                check=False,
                capture_output=True,
                timeout=900,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
    found = shutil.which("chromium")
    if not found:
        pytest.fail("CI=true and chromium is missing and could not be installed with apt-get", pytrace=False)
    return found


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()

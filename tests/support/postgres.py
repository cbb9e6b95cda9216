"""The PostgreSQL server the tests use: STRATA_TEST_POSTGRES_URL (default: the local server, user
postgres). Each test that needs one makes its own throwaway database there."""

from __future__ import annotations

import os

import psycopg

from assets.publishing.postgres import mask_conninfo
from tests.support.ci import missing

ADMIN_URL = os.environ.get("STRATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_connection() -> psycopg.Connection:
    """An autocommit connection to the server as its admin; an unreachable server fails the test in
    CI and skips it elsewhere (tests/support/ci.py)."""
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        missing(f"PostgreSQL is not reachable at {mask_conninfo(ADMIN_URL)}: {str(exc).strip()}")

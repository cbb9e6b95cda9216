"""A scenario's tables in PostgreSQL: schema `scenarios`, one table each, every scenario's rows in it.

On when the `paths` resource names a PostgreSQL target (assets/publishing/postgres.py: same
connection, same read-only role). Unlike the marts, which are replaced as a whole, a scenario
replaces only its own rows (`scenario = <name>`) in one transaction, so BI tools see every
published scenario side by side and never half of one. `strata scenario drop` deletes its rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from assets.publishing import sql_literal
from assets.publishing.postgres import (
    PostgresPublishError,
    PostgresTarget,
    column_definitions,
    connect,
    copy_parquet,
)
from assets.scenarios.plan import check_name
from assets.scenarios.run import SCENARIO_MANIFEST, TABLES

SCHEMA = "scenarios"
Log = Callable[[str], None]


def _grant(conn: psycopg.Connection, target: PostgresTarget, log: Log) -> None:
    """USAGE on the schema and SELECT on its tables for the BI role (created NOLOGIN if missing)."""
    role = sql.Identifier(target.bi_role)
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [target.bi_role]).fetchone():
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
        log(f"created the read-only role {target.bi_role} (NOLOGIN)")
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), role))
    conn.execute(
        sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), role)
    )


def publish_scenario_postgres(
    folder: Path, name: str, log: Log = lambda _: None, target: PostgresTarget | None = None
) -> str | None:
    """Replace scenario `name`'s rows in PostgreSQL from its published folder; None without a target.

    Returns where it went (`postgresql://user@host/db` schema scenarios, password masked).
    """
    check_name(name)
    if target is None:
        return None
    manifest = json.loads((Path(folder) / SCENARIO_MANIFEST).read_text(encoding="utf-8"))
    import duckdb

    try:
        with connect(target) as conn, duckdb.connect() as duck:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"strata-publish:{SCHEMA}"])
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
            for table in TABLES:
                spec = manifest["tables"][table]
                ident = sql.Identifier(SCHEMA, table)
                key = sql.SQL(", ").join(sql.Identifier(k) for k in spec["key"])
                conn.execute(
                    sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))").format(
                        ident, column_definitions(spec["columns"]), key
                    )
                )
                conn.execute(sql.SQL("DELETE FROM {} WHERE scenario = %s").format(ident), [name])
                parquet = Path(folder) / spec["path"]
                held = {
                    s
                    for (s,) in duck.execute(
                        f"SELECT DISTINCT scenario FROM read_parquet({sql_literal(parquet)})"
                    ).fetchall()
                }
                if held - {name}:
                    raise PostgresPublishError(
                        f"{parquet} holds the rows of scenario {', '.join(sorted(held))}, not {name}"
                    )
                copy_parquet(conn, duck, parquet, ident, spec["columns"])
                loaded = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE scenario = %s").format(ident), [name]
                ).fetchone()[0]
                if loaded != spec["rows"]:
                    raise PostgresPublishError(
                        f"{table}: {loaded} rows loaded for {name}, the folder has {spec['rows']}"
                    )
            _grant(conn, target, log)
            conn.commit()
    except psycopg.Error as exc:
        raise _failed(f"publishing scenario {name} to", target, exc) from None
    log(f"scenario {name}: replaced its rows in {target.display} schema {SCHEMA}")
    return f"{target.display} schema {SCHEMA}"


def drop_scenario_postgres(
    name: str, log: Log = lambda _: None, target: PostgresTarget | None = None
) -> bool:
    """Delete scenario `name`'s rows; False without a target or when PostgreSQL has no such tables."""
    check_name(name)
    if target is None:
        return False
    try:
        with connect(target) as conn:
            existing = {
                t
                for (t,) in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [SCHEMA]
                ).fetchall()
            }
            for table in TABLES:
                if table in existing:
                    conn.execute(
                        sql.SQL("DELETE FROM {} WHERE scenario = %s").format(sql.Identifier(SCHEMA, table)),
                        [name],
                    )
            conn.commit()
    except psycopg.Error as exc:
        raise _failed(f"removing scenario {name} from", target, exc) from None
    log(f"scenario {name}: its rows removed from {target.display} schema {SCHEMA}")
    return bool(existing & set(TABLES))


def _failed(what: str, target: PostgresTarget, exc: psycopg.Error) -> PostgresPublishError:
    """The error to raise, with the password masked; a lost connection may succeed on a retry."""
    return PostgresPublishError(
        f"{what} PostgreSQL at {target.display} failed: {target.scrub(str(exc)).strip()}",
        transient=isinstance(exc, psycopg.OperationalError),
    )

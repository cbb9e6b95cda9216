"""PostgreSQL publishing: the published marts as a `marts` schema for BI tools that speak PostgreSQL.

On when the `paths` resource's `postgres_url` (STRATA_POSTGRES_URL) holds a libpq connection string
(URL or `key=value`); off (the asset materialises nothing) when it is unset. The mart tables are created
once and then keep their identity: analysts build views on them (in schemas of their own), and a
view must survive every publication. What one publication does:

1. Loads every mart of the current published copy (`<out>/published`, resolved once, so PostgreSQL
   gets exactly what the files hold) into a scratch schema `marts_new` that no reader can see: the
   marts' column types (DECIMAL(p,s) → numeric(p,s), DOUBLE → double precision, DATE, VARCHAR →
   text, BOOLEAN, BIGINT, …), NOT NULL where the mart's contract has it, bulk-loaded with
   `COPY ... FROM STDIN` (CSV that DuckDB writes: exact decimal text), row counts checked against
   the publication's manifest, then the primary keys (the grains of docs/marts.md).
2. Replaces the data of every mart in ONE transaction: lock the existing mart tables (in the marts'
   order), compare their columns with the new ones, TRUNCATE them, add new columns in place (ALTER
   TABLE ... ADD COLUMN), create a mart that is new, INSERT the rows from `marts_new`, write the
   dbt project's descriptions as comments, commit. Readers see the old data or the new, never a mix
   of marts from two publications; a reader waits while the rows are copied (the copy is inside
   the server). If the locks cannot be had within `lock_timeout`, the transaction is rolled back
   and retried (a reader always wins over the publisher).
3. A change that would break what is built on a mart (a column's type changed, a column no longer
   published) is made in place when nothing uses that column; when a view (or another object) does,
   nothing is published and the message names the objects (`pg_depend` / `pg_rewrite`).
4. The read-only role (`strata_bi`, NOLOGIN unless `postgres_bi_login` is true) gets USAGE on
   the schema and SELECT on its tables (plus default privileges for tables created in it), nothing
   else.

The connection string's password never reaches logs, metadata or error messages: everything shown
goes through `mask_conninfo`, and connection errors are re-raised without their cause.
"""

import contextlib
import datetime as dt
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

from assets.core.resources import FROM_ENV, StrataPaths
from assets.core.retries import retries_left, retry_later
from assets.core.sql import sql_ident, sql_literal
from assets.publishing.months import MONTH_COLUMN
from assets.publishing.reader import PublishedCopy, open_published

ENV_URL = FROM_ENV["postgres_url"]  # named (never its value) in messages
DEFAULT_SCHEMA = StrataPaths.model_fields["postgres_schema"].default
DEFAULT_BI_ROLE = StrataPaths.model_fields["postgres_bi_role"].default
COPY_CHUNK = 1 << 20
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresPublishError(RuntimeError):
    """Publishing to PostgreSQL failed; the message never holds the password.

    `transient`: worth retrying (the server unreachable, readers holding locks); otherwise the same
    publication would fail the same way (a view on a mart, a duplicate key, a missing role).
    """

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


# --------------------------------------------------------------------------------------------------
# Configuration and secrets.


def mask_conninfo(conninfo: str) -> str:
    """The connection string without its password: `postgresql://user@host:port/dbname`."""
    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        return "postgresql://<unparseable connection string>"
    user = params.get("user", "")
    host = params.get("host", "")
    port = params.get("port", "")
    dbname = params.get("dbname", "")
    return f"postgresql://{user + '@' if user else ''}{host}{':' + port if port else ''}/{dbname}"


def _secrets(conninfo: str) -> list[str]:
    try:
        password = conninfo_to_dict(conninfo).get("password")
    except Exception:
        password = None
    return [s for s in (password, conninfo) if s]


@dataclass(frozen=True)
class PostgresTarget:
    """Where and how to publish. Its repr never shows the connection string."""

    conninfo: str = field(repr=False)
    schema: str = DEFAULT_SCHEMA
    bi_role: str = DEFAULT_BI_ROLE
    bi_login: bool = False
    bi_password: str | None = field(default=None, repr=False)
    lock_timeout_ms: int = 2000
    swap_attempts: int = 30
    connect_timeout_s: int = 10

    def __post_init__(self) -> None:
        for what, name in (("schema", self.schema), ("BI role", self.bi_role)):
            if not NAME.match(name) or name == "public" or name.startswith("pg_"):
                raise PostgresPublishError(
                    f"the {what} name {name!r} must be a lower-case SQL name (letters, digits, _)"
                )

    @property
    def staging_schema(self) -> str:
        return f"{self.schema}_new"

    @property
    def display(self) -> str:
        return mask_conninfo(self.conninfo)

    def scrub(self, text: str) -> str:
        """`text` with the password (and the raw connection string) replaced by ***."""
        for secret in sorted(_secrets(self.conninfo) + [self.bi_password or ""], key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    @classmethod
    def of(cls, paths: StrataPaths) -> "PostgresTarget | None":
        """The target the `paths` resource names; None (publishing off) without a connection string."""
        conninfo = (paths.postgres_url or "").strip()
        if not conninfo:
            return None
        return cls(
            conninfo=conninfo,
            schema=paths.postgres_schema,
            bi_role=paths.postgres_bi_role,
            bi_login=paths.postgres_bi_login.strip().lower() in ("1", "true", "yes", "on"),
            bi_password=paths.postgres_bi_password or None,
        )


# --------------------------------------------------------------------------------------------------
# Types.

_SIMPLE_TYPES = {
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "REAL": "real",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "UBIGINT": "numeric(20,0)",
    "UINTEGER": "bigint",
    "USMALLINT": "integer",
    "UTINYINT": "smallint",
    "HUGEINT": "numeric(39,0)",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
    "UUID": "uuid",
    "JSON": "jsonb",
}
_QUOTED = {"text", "uuid", "jsonb"}  # written quoted, so an empty string stays '' and NULL stays NULL


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type (as `information_schema` spells it)."""
    t = " ".join(duckdb_type.upper().split())
    if m := re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t):
        return f"numeric({m[1]},{m[2]})"
    if t in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[t]
    raise PostgresPublishError(f"no PostgreSQL type for the DuckDB type {duckdb_type}")


# --------------------------------------------------------------------------------------------------
# Publishing.


@dataclass
class PostgresPublication:
    schema: str
    rows: dict[str, int]
    version: str
    run_id: str
    swap_attempts: int
    replaced_months: dict[str, list[str]] = field(default_factory=dict)  # marts replaced by month


@contextlib.contextmanager
def connect(target: PostgresTarget) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(
            target.conninfo, connect_timeout=target.connect_timeout_s, application_name="strata-publish"
        )
    except psycopg.Error as exc:
        # `from None`: the original exception (and anything it quotes) must not be recorded.
        raise PostgresPublishError(
            f"cannot connect to PostgreSQL at {target.display}: {target.scrub(str(exc)).strip()}",
            transient=True,
        ) from None
    try:
        yield conn
    finally:
        conn.close()


def mart_tables(copy: PublishedCopy) -> dict[str, dict[str, Any]]:
    return {name: t for name, t in copy.tables.items() if t["schema"] == "marts"}


def publish_postgres(
    copy: PublishedCopy,
    target: PostgresTarget,
    log: Callable[[str], None] = lambda _: None,
) -> PostgresPublication:
    """Load the published copy's marts into `<schema>_new`, then replace the data of `<schema>`'s
    tables with it in one transaction (the tables themselves, and what is built on them, stay)."""
    tables = mart_tables(copy)
    if not tables:
        raise PostgresPublishError(f"the published copy {copy.version} holds no marts")
    try:
        with connect(target) as conn:
            # One publisher per schema and database (released when the session ends).
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"strata-publish:{target.schema}"])
            conn.commit()
            _ensure_role(conn, target, log)
            _ensure_schema(conn, target)
            scope = replace_scope(conn, copy, tables, target)
            by_month = sorted(n for n, months in scope.items() if months is not None)
            log(f"replacing by month: {', '.join(by_month)}" if by_month
                else "replacing every mart whole")
            _load_staging(conn, copy, tables, target, log, scope)
            attempts = _replace(conn, tables, target, copy, log, scope)
            for name in tables:  # fresh statistics for the planner; outside the readers' wait
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(target.schema, name)))
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(target.staging_schema)))
            conn.commit()
    except psycopg.Error as exc:
        raise PostgresPublishError(
            f"publishing to PostgreSQL at {target.display} failed: {target.scrub(str(exc)).strip()}",
            transient=isinstance(exc, psycopg.OperationalError),
        ) from None
    return PostgresPublication(
        schema=target.schema,
        rows={n: t["rows"] for n, t in tables.items()},
        version=copy.version.name,
        run_id=copy.run_id,
        swap_attempts=attempts,
        replaced_months={n: [m.isoformat() for m in ms] for n, ms in scope.items() if ms is not None},
    )


def _schema_comment(copy: PublishedCopy) -> str:
    return f"strata published marts: copy {copy.version.name}, run {copy.run_id}"


def published_version(conn: psycopg.Connection, target: PostgresTarget) -> str | None:
    """The published copy the schema holds, as its comment names it (None: unknown)."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", [target.schema]
    ).fetchone()
    found = re.match(r"strata published marts: copy (\S+), run ", (row[0] or "") if row else "")
    return found[1] if found else None


def replace_scope(
    conn: psycopg.Connection, copy: PublishedCopy, tables: dict[str, dict[str, Any]], target: PostgresTarget
) -> dict[str, list[dt.date] | None]:
    """Per mart, the months whose rows this publication replaces, or None for all of its rows.

    By month only when the schema holds exactly the copy this one was built on (docs/publishing.md:
    each copy names the months it rewrote since its base) and the mart's table has the copy's
    columns; anything else (a publication missed, a new column, a new mart) replaces the mart whole.
    """
    base = copy.manifest.get("based_on")
    same_base = base is not None and published_version(conn, target) == base
    scope: dict[str, list[dt.date] | None] = {}
    for name, table in tables.items():
        months = table.get("rewritten_months")
        existing = list(_table_columns(conn, target.schema, name).values())
        wanted = [(c["name"], pg_type(c["type"])) for c in table["columns"]]
        # Same names and types, and no NULL can arrive where the table forbids it (a primary key's
        # columns are NOT NULL in PostgreSQL whatever the mart says).
        same_columns = [(c.name, c.type) for c in existing] == wanted and all(
            not c["nullable"] or not pg.not_null for c, pg in zip(table["columns"], existing, strict=True)
        )
        scope[name] = (
            [dt.date.fromisoformat(m) for m in months]
            if same_base and months is not None and same_columns else None
        )
    return scope


def _ensure_role(conn: psycopg.Connection, target: PostgresTarget, log: Callable[[str], None]) -> None:
    role = sql.Identifier(target.bi_role)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [target.bi_role]).fetchone()
    login = sql.SQL("LOGIN" if target.bi_login else "NOLOGIN")
    if not exists:
        try:
            conn.execute(sql.SQL("CREATE ROLE {} {}").format(role, login))
        except errors.InsufficientPrivilege:
            conn.rollback()
            raise PostgresPublishError(
                f"the role {target.bi_role} does not exist and the publishing user may not create it: "
                f"ask a DBA for `CREATE ROLE {target.bi_role} NOLOGIN`"
            ) from None
        except errors.UniqueViolation:  # created concurrently (roles are cluster-wide)
            conn.rollback()
        log(f"created the read-only role {target.bi_role} ({'LOGIN' if target.bi_login else 'NOLOGIN'})")
    if target.bi_login and target.bi_password:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(target.bi_password)))
    conn.commit()
    # Connecting needs CONNECT on the database (PUBLIC has it unless a DBA revoked it).
    try:
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(conn.info.dbname), role)
        )
        conn.commit()
    except errors.InsufficientPrivilege:
        conn.rollback()
        log(f"could not grant CONNECT on the database to {target.bi_role} (not its owner); relying on PUBLIC")


def _ensure_schema(conn: psycopg.Connection, target: PostgresTarget) -> None:
    """The published schema, readable by the BI role only (usage, and SELECT on its tables)."""
    schema, role = sql.Identifier(target.schema), sql.Identifier(target.bi_role)
    exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [target.schema]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
    conn.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(schema, role)
    )
    conn.commit()


def column_definitions(columns: Sequence[Mapping[str, Any]]) -> sql.Composable:
    """`name type [NOT NULL], ...` for a table of `columns` (name, DuckDB type, nullable if unsaid)."""
    return sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(
            sql.Identifier(c["name"]),
            sql.SQL(pg_type(c["type"])),
            sql.SQL("" if c.get("nullable", True) else " NOT NULL"),
        )
        for c in columns
    )


def copy_parquet(
    conn: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    parquet: Path,
    table: sql.Identifier,
    columns: Sequence[Mapping[str, Any]],
    where: str = "",
) -> None:
    """Bulk-load `columns` of a Parquet file (its rows matching the DuckDB condition `where`, or all)
    into the PostgreSQL `table`, in `conn`'s transaction: the one way strata copies rows to PostgreSQL.

    DuckDB writes them as CSV (exact decimal text; text-like columns always quoted, so '' stays ''
    and NULL stays NULL) and `COPY ... FROM STDIN` reads it in chunks: no row passes through Python.
    """
    quoted = [c["name"] for c in columns if pg_type(c["type"]) in _QUOTED]
    options = "FORMAT csv, HEADER false" + (
        f", FORCE_QUOTE ({', '.join(sql_ident(c) for c in quoted)})" if quoted else ""
    )
    column_list = ", ".join(sql_ident(c["name"]) for c in columns)
    names = sql.SQL(", ").join(sql.Identifier(c["name"]) for c in columns)
    with tempfile.TemporaryDirectory(prefix="strata-pg-") as tmp:
        csv_file = Path(tmp) / "rows.csv"
        duck.execute(
            f"COPY (SELECT {column_list} FROM read_parquet({sql_literal(parquet)})"
            f"{f' WHERE {where}' if where else ''}) TO {sql_literal(csv_file)} ({options})"
        )
        with (
            conn.cursor() as cur,
            cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, names)) as pg_copy,
            open(csv_file, "rb") as f,
        ):
            while chunk := f.read(COPY_CHUNK):
                pg_copy.write(chunk)


def _load_staging(
    conn: psycopg.Connection,
    copy: PublishedCopy,
    tables: dict[str, dict[str, Any]],
    target: PostgresTarget,
    log: Callable[[str], None],
    scope: Mapping[str, list[dt.date] | None],
) -> None:
    """Every mart into `<schema>_new` (no reader can see it), checked, before any lock is taken:
    its rows of the months in `scope`, or all of them."""
    staging = sql.Identifier(target.staging_schema)
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(staging))  # a failed run's leftovers
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(staging))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(staging))
    with duckdb.connect() as duck:
        for name, table in tables.items():
            columns = table["columns"]
            ident = sql.Identifier(target.staging_schema, name)
            # UNLOGGED: a scratch copy, dropped after the publication; no WAL to write twice.
            conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(ident, column_definitions(columns)))
            months, expected = scope.get(name), table["rows"]
            where = ""
            if months is not None:
                listed = ", ".join(f"{sql_literal(m.isoformat())}::DATE" for m in months) or "NULL"
                where = f"{sql_ident(MONTH_COLUMN)} IN ({listed})"
                expected = sum(table["months"].get(m.isoformat(), 0) for m in months)
            copy_parquet(conn, duck, copy.parquet(name), ident, columns, where)
            loaded = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]
            if loaded != expected:
                raise PostgresPublishError(
                    f"{name}: {loaded} rows loaded into PostgreSQL, the copy has {expected}"
                )
            key = [c for c in table["key"] if any(col["name"] == c for col in columns)]
            if key:  # after the load: faster, and a duplicate key fails before anything is visible
                conn.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                        ident,
                        sql.Identifier(f"{name}_pkey"),
                        sql.SQL(", ").join(sql.Identifier(c) for c in key),
                    )
                )
            log(f"loaded {name}: {loaded} rows")
    conn.commit()


@dataclass(frozen=True)
class _Column:
    name: str
    type: str  # as PostgreSQL spells it (format_type), so both sides compare exactly
    not_null: bool
    number: int


def _table_columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, _Column]:
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attnum "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        [schema, table],
    ).fetchall()
    return {r[0]: _Column(*r) for r in rows}


@dataclass
class _Plan:
    """How one existing mart table takes the new data without being replaced."""

    table: str
    added: list[_Column] = field(default_factory=list)
    retyped: list[tuple[_Column, _Column]] = field(default_factory=list)  # (published, new)
    dropped: list[_Column] = field(default_factory=list)
    null_changes: list[_Column] = field(default_factory=list)  # new NOT NULL flag differs

    def breaking_columns(self) -> list[_Column]:
        return [old for old, _ in self.retyped] + self.dropped


def _plan(conn: psycopg.Connection, target: PostgresTarget, table: str) -> _Plan:
    old = _table_columns(conn, target.schema, table)
    new = _table_columns(conn, target.staging_schema, table)
    plan = _Plan(table)
    for name, column in new.items():
        if name not in old:
            plan.added.append(column)
        elif old[name].type != column.type:
            plan.retyped.append((old[name], column))
        elif old[name].not_null != column.not_null:
            plan.null_changes.append(column)
    plan.dropped = [c for name, c in old.items() if name not in new]
    return plan


def dependents(
    conn: psycopg.Connection, schema: str, table: str, columns: list[int] | None = None
) -> list[str]:
    """What is built on a table (or on some of its columns, by number): views and materialized
    views through their rewrite rules, anything else (a foreign key, a function) as PostgreSQL
    describes it. These are the objects a type change or a dropped column would break."""
    rows = conn.execute(
        "SELECT DISTINCT CASE WHEN d.classid = 'pg_rewrite'::regclass THEN "
        "  (SELECT CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END "
        "          || format('%%I.%%I', vn.nspname, v.relname) "
        "   FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class "
        "   JOIN pg_namespace vn ON vn.oid = v.relnamespace WHERE r.oid = d.objid) "
        "ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END "
        "FROM pg_depend d "
        "WHERE d.refclassid = 'pg_class'::regclass AND d.deptype = 'n' "
        "AND d.refobjid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "                  WHERE n.nspname = %s AND c.relname = %s) "
        "AND (%s::int[] IS NULL OR d.refobjsubid = ANY(%s::int[])) "
        "ORDER BY 1",
        [schema, table, columns, columns],
    ).fetchall()
    return [r[0] for r in rows]


def _describe(plan: _Plan) -> str:
    parts = [f"{old.name} changes type ({old.type} → {new.type})" for old, new in plan.retyped]
    parts += [f"{c.name} is no longer published" for c in plan.dropped]
    return ", ".join(parts)


def _replace(
    conn: psycopg.Connection,
    tables: dict[str, dict[str, Any]],
    target: PostgresTarget,
    copy: PublishedCopy,
    log: Callable[[str], None],
    scope: Mapping[str, list[dt.date] | None],
) -> int:
    """Replace the data of every mart in ONE transaction; the tables stay, so views on them do too.

    A mart in `scope` with months has those months' rows deleted and inserted anew, the others are
    truncated and refilled. The lock is ACCESS EXCLUSIVE either way: a weaker one would let a
    READ COMMITTED reader's transaction see one mart before the commit and the next after it.

    Existing tables are locked at once, in the marts' order (readers reading several marts in that
    order never deadlock with it), then truncated and refilled from `<schema>_new`; a new column is
    added in place; a new mart is created. A column whose type changed, or that is gone, is changed
    in place unless something is built on it: then nothing is published and the message names it.
    """
    schema, role = sql.Identifier(target.schema), sql.Identifier(target.bi_role)
    for attempt in range(1, target.swap_attempts + 1):
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{target.lock_timeout_ms}ms"))
                )
                existing = {
                    r[0]
                    for r in conn.execute(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                        [target.schema],
                    ).fetchall()
                }
                kept = [t for t in tables if t in existing]
                whole = [t for t in kept if scope.get(t) is None]
                if kept:
                    conn.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                            sql.SQL(", ").join(sql.Identifier(target.schema, t) for t in kept)
                        )
                    )
                plans = [_plan(conn, target, t) for t in whole]
                _refuse_breaking_changes(conn, plans, target)
                if whole:
                    conn.execute(
                        sql.SQL("TRUNCATE {}").format(
                            sql.SQL(", ").join(sql.Identifier(target.schema, t) for t in whole)
                        )
                    )
                for name in kept:
                    if scope.get(name) is not None:
                        conn.execute(
                            sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                                sql.Identifier(target.schema, name), sql.Identifier(MONTH_COLUMN)
                            ),
                            [scope[name]],
                        )
                for plan in plans:
                    _alter(conn, target, plan, log)
                for name, table in tables.items():
                    ident, staged = (
                        sql.Identifier(target.schema, name),
                        sql.Identifier(target.staging_schema, name),
                    )
                    if name not in existing:
                        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(ident, staged))
                        log(f"created {target.schema}.{name}")
                    names = sql.SQL(", ").join(sql.Identifier(c["name"]) for c in table["columns"])
                    conn.execute(
                        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(ident, names, names, staged)
                    )
                    _comment(conn, target, name, table, copy)
                conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role))
                comment = sql.Literal(_schema_comment(copy))
                conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(schema, comment))
            others = sorted(existing - set(tables))
            if others:
                log(f"left alone in {target.schema} (not in this publication): {', '.join(others)}")
            log(f"replaced the data of {len(tables)} marts in {target.schema} (attempt {attempt})")
            return attempt
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            log(f"readers hold the marts (attempt {attempt} of {target.swap_attempts}); retrying")
            time.sleep(min(0.2 * attempt, 2.0))
        except errors.DependentObjectsStillExist as exc:  # an object kind `dependents` missed
            detail = target.scrub(exc.diag.message_detail or str(exc))
            raise PostgresPublishError(
                f"other objects depend on the published marts: {detail}; "
                f"nothing was published and {target.schema} keeps the previous publication"
            ) from None
    raise PostgresPublishError(
        f"readers held the marts' locks through {target.swap_attempts} attempts; "
        f"{target.schema} keeps the previous publication",
        transient=True,
    )


def _refuse_breaking_changes(conn: psycopg.Connection, plans: list[_Plan], target: PostgresTarget) -> None:
    problems = []
    for plan in plans:
        breaking = plan.breaking_columns()
        if not breaking:
            continue
        built_on = dependents(conn, target.schema, plan.table, [c.number for c in breaking])
        if built_on:
            problems.append(f"{target.schema}.{plan.table}: {_describe(plan)}, used by {', '.join(built_on)}")
    if problems:
        raise PostgresPublishError(
            "the published marts changed in a way that would break what is built on them: "
            + "; ".join(problems)
            + f". Nothing was published; {target.schema} keeps the previous publication. Drop or rewrite "
            "those objects so they no longer use these columns, run again, then recreate them."
        )


def _alter(conn: psycopg.Connection, target: PostgresTarget, plan: _Plan, log: Callable[[str], None]) -> None:
    """Bring an (empty, locked) mart table to the new columns, in place."""
    ident = sql.Identifier(target.schema, plan.table)
    for column in plan.dropped:
        conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(ident, sql.Identifier(column.name)))
    for old, new in plan.retyped:  # the table is empty: no value to convert
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING NULL").format(
                ident, sql.Identifier(old.name), sql.SQL(new.type)
            )
        )
    for column in plan.added:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}{}").format(
                ident,
                sql.Identifier(column.name),
                sql.SQL(column.type),
                sql.SQL(" NOT NULL" if column.not_null else ""),
            )
        )
    for column in plan.null_changes + [new for _, new in plan.retyped]:  # a retyped column keeps its old flag
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} {} NOT NULL").format(
                ident, sql.Identifier(column.name), sql.SQL("SET" if column.not_null else "DROP")
            )
        )
    if plan.added or plan.retyped or plan.dropped:
        log(
            f"{target.schema}.{plan.table}: "
            + ", ".join(
                [f"added {c.name}" for c in plan.added]
                + ([_describe(plan)] if plan.breaking_columns() else [])
            )
        )


def _comment(
    conn: psycopg.Connection, target: PostgresTarget, name: str, table: dict[str, Any], copy: PublishedCopy
) -> None:
    """The mart's and its columns' descriptions (the dbt project's), where BI tools show them."""
    ident = sql.Identifier(target.schema, name)
    about = f"Published copy {copy.version.name}, run {copy.run_id}."
    description = (table.get("description") or "").strip()
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            ident, sql.Literal(f"{description}\n\n{about}" if description else f"strata mart {name}. {about}")
        )
    )
    for column in table["columns"]:
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                ident, sql.Identifier(column["name"]), sql.Literal(column.get("description") or None)
            )
        )


# --------------------------------------------------------------------------------------------------
# The Dagster asset.


@dg.asset(
    name="postgres_marts",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="The published marts in PostgreSQL (schema `marts`, read-only role for BI tools): "
    f"their data replaced in one transaction, views built on them kept; only when {ENV_URL} is set.",
    owners=["team:data-engineering"],
    kinds={"postgres"},
    output_required=False,
)
def postgres_marts(context: dg.AssetExecutionContext, paths: StrataPaths):
    target = PostgresTarget.of(paths)
    if target is None:
        context.log.info(f"no PostgreSQL connection string ({ENV_URL}): nothing published to PostgreSQL")
        return
    copy = open_published(paths.out)
    context.log.info(f"publishing {copy.version.name} to {target.display}, schema {target.schema}")
    try:
        result = publish_postgres(copy, target, log=lambda m: context.log.info(target.scrub(m)))
    except PostgresPublishError as exc:
        # Retried only where another try can succeed; from None: the cause may hold the URL.
        if exc.transient and retries_left(context):
            raise retry_later(context, target.scrub(str(exc))) from None
        raise dg.Failure(target.scrub(str(exc))) from None
    yield dg.MaterializeResult(
        metadata={
            "target": target.display,
            "schema": result.schema,
            "bi_role": target.bi_role,
            "published_copy": result.version,
            "publication_run_id": result.run_id,
            "swap_attempts": result.swap_attempts,
            "replaced_months": dg.MetadataValue.json(result.replaced_months),
            "rows": dg.MetadataValue.json(result.rows),
            **{f"rows/{t}": n for t, n in result.rows.items()},
        }
    )

"""PostgreSQL publishing on the real server: tables, types, keys, rows, the swap, the BI role, secrets."""

import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

import assets.core.retries
from assets.core.resources import StrataPaths, paths_from_env
from assets.publishing import MART_KEYS, open_published, publish, sql_literal
from assets.publishing.postgres import (
    ENV_URL,
    PostgresPublishError,
    PostgresTarget,
    mask_conninfo,
    pg_type,
    postgres_marts,
    publish_postgres,
)
from tests.publishing.fixture import MART_COLUMNS, build_marts_warehouse

PASSWORD = "s3cr3t-PW-7f1c"  # trust auth ignores it; it must never show anywhere

EXPECTED_PG = {  # (data_type, numeric_precision, numeric_scale) in information_schema.columns
    "DECIMAL(18,2)": ("numeric", 18, 2),
    "DECIMAL(38,12)": ("numeric", 38, 12),
    "DOUBLE": ("double precision", 53, None),
    "BIGINT": ("bigint", 64, 0),
    "DATE": ("date", None, None),
    "VARCHAR": ("text", None, None),
    "BOOLEAN": ("boolean", None, None),
}


@pytest.fixture
def published(warehouse, out_dir):
    publish(warehouse, out_dir, "pg-run-1")
    return open_published(out_dir)


@pytest.fixture(scope="session")
def small_copy(tmp_path_factory):
    """A second published copy with other row counts (for the swap test)."""
    out = tmp_path_factory.mktemp("small")
    build_marts_warehouse(out / "warehouse.duckdb", customers=12, months=26, seed=3, run_id="small")
    publish(out / "warehouse.duckdb", out, "small")
    return open_published(out)


def counts(conn, schema="marts") -> tuple[int, ...]:
    query = sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(schema, t)) for t in MART_KEYS
        )
    )
    return tuple(conn.execute(query).fetchone())


def test_pg_types_follow_the_marts_types():
    assert pg_type("DECIMAL(18,2)") == "numeric(18,2)"
    assert pg_type("DOUBLE") == "double precision"
    assert pg_type("VARCHAR") == "text"
    assert pg_type("DATE") == "date"
    assert pg_type("BOOLEAN") == "boolean"
    assert pg_type("BIGINT") == "bigint"
    with pytest.raises(PostgresPublishError, match="BLOB"):
        pg_type("BLOB")


def test_the_connection_string_is_masked():
    assert (
        mask_conninfo(f"postgresql://bi:{PASSWORD}@db.example:5433/warehouse?sslmode=require")
        == "postgresql://bi@db.example:5433/warehouse"
    )
    assert PASSWORD not in mask_conninfo(f"host=db user=bi password={PASSWORD} dbname=w")
    target = PostgresTarget(conninfo=f"postgresql://bi:{PASSWORD}@db/w", bi_password="other-secret")
    assert PASSWORD not in repr(target) and "other-secret" not in repr(target)
    assert (
        target.scrub(f"failed for postgresql://bi:{PASSWORD}@db/w and other-secret")
        == "failed for *** and ***"
    )


def test_marts_are_published_with_types_keys_and_rows(pg_database, published):
    result = publish_postgres(published, pg_database.target())
    assert result.rows == {t: published.tables[t]["rows"] for t in MART_KEYS}
    with pg_database.connect() as conn, duckdb.connect() as duck:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        }
        assert tables == set(MART_KEYS)
        assert not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'marts_new'").fetchone()
        for table, columns in MART_COLUMNS.items():
            got = conn.execute(
                "SELECT column_name, data_type, numeric_precision, numeric_scale "
                "FROM information_schema.columns "
                "WHERE table_schema = 'marts' AND table_name = %s ORDER BY ordinal_position",
                [table],
            ).fetchall()
            assert [(c, *EXPECTED_PG[t]) for c, t in columns] == [g for g in got if g[0] != "run_id"], table
            key = conn.execute(
                "SELECT a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                [f"marts.{table}"],
            ).fetchall()
            assert tuple(r[0] for r in key) == MART_KEYS[table], table
            names = ", ".join(f'"{c}"' for c, _ in columns)
            order = ", ".join(f'"{c}"' for c in MART_KEYS[table])
            pg_rows = conn.execute(f"SELECT {names} FROM marts.{table} ORDER BY {order}").fetchall()
            file_rows = duck.execute(
                f"SELECT {names} FROM read_parquet({sql_literal(published.parquet(table))}) ORDER BY {order}"
            ).fetchall()
            assert pg_rows == [tuple(r) for r in file_rows], table  # exact: Decimal, float, date, None
        money = conn.execute("SELECT gl_amount FROM marts.margin_reconciliation LIMIT 1").fetchone()[0]
        assert isinstance(money, Decimal)
        comment = conn.execute("SELECT obj_description('marts'::regnamespace)").fetchone()[0]
        assert "pg-run-1" in comment


def test_strings_survive_exactly(pg_database, out_dir, warehouse):
    awkward = ["", 'quote " inside', "comma, and\nnewline", "\\.", "back\\slash", "ünïcødé", "  padded  "]
    with duckdb.connect(str(warehouse)) as con:
        for i, text in enumerate(awkward):
            con.execute(
                "UPDATE marts.account_playbook SET key_initiative = ? WHERE customer_no = "
                f"(SELECT customer_no FROM marts.account_playbook ORDER BY customer_no LIMIT 1 OFFSET {i})",
                [text],
            )
        con.execute(
            "UPDATE marts.account_playbook SET relationship_owner = NULL WHERE customer_no = "
            "(SELECT min(customer_no) FROM marts.account_playbook)"
        )
        expected = con.execute(
            "SELECT customer_no, key_initiative, relationship_owner FROM marts.account_playbook ORDER BY 1"
        ).fetchall()
    publish(warehouse, out_dir, "strings")
    publish_postgres(open_published(out_dir), pg_database.target())
    with pg_database.connect() as conn:
        got = conn.execute(
            "SELECT customer_no, key_initiative, relationship_owner FROM marts.account_playbook ORDER BY 1"
        ).fetchall()
    assert got == expected


def test_the_swap_is_one_transaction_for_concurrent_readers(pg_database, published, small_copy):
    target = pg_database.target()
    publish_postgres(published, target)
    with pg_database.connect() as conn:
        full = counts(conn)
    small = tuple(small_copy.tables[t]["rows"] for t in MART_KEYS)
    assert full != small
    seen, problems, stop = [], [], threading.Event()

    def reader(mode: str) -> None:
        with pg_database.connect(autocommit=True) as conn:
            while not stop.is_set():
                try:
                    if mode == "statement":  # every count in one statement
                        seen.append(counts(conn))
                    else:  # one count a statement, inside one READ COMMITTED transaction
                        with conn.transaction():
                            seen.append(
                                tuple(
                                    conn.execute(
                                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("marts", t))
                                    ).fetchone()[0]
                                    for t in MART_KEYS
                                )
                            )
                except psycopg.Error as exc:
                    problems.append(f"{type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=reader, args=(m,)) for m in ("statement", "transaction", "transaction")
    ]
    for t in threads:
        t.start()
    try:
        for i in range(8):
            publish_postgres(small_copy if i % 2 == 0 else published, target)
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert problems == []
    assert len(seen) > 50
    assert set(seen) == {full, small}  # old or new, never a mix, and both were seen


def test_a_failed_load_leaves_the_old_marts(pg_database, published, tmp_path):
    target = pg_database.target()
    publish_postgres(published, target)
    with pg_database.connect() as conn:
        before = counts(conn)
    # A copy whose account_playbook repeats a key: the primary key refuses it during the load.
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copyfile(published.version.parent.parent / "warehouse.duckdb", broken / "warehouse.duckdb")
    with duckdb.connect(str(broken / "warehouse.duckdb")) as con:
        con.execute("INSERT INTO marts.account_playbook SELECT * FROM marts.account_playbook LIMIT 1")
    publish(broken / "warehouse.duckdb", broken, "broken")
    with pytest.raises(PostgresPublishError, match="account_playbook"):
        publish_postgres(open_published(broken), target)
    with pg_database.connect() as conn:
        assert counts(conn) == before
        assert "pg-run-1" in conn.execute("SELECT obj_description('marts'::regnamespace)").fetchone()[0]


PROFIT_VIEW = (  # an analyst's dashboard view: one row, so a test can compare it with the files
    "CREATE VIEW {}.profit_overview AS "
    "SELECT count(*) AS customer_months, sum(net_revenue) AS net_revenue, sum(contribution_margin) AS cm "
    "FROM marts.fct_customer_profit_monthly"
)


def profit_overview(copy) -> tuple:
    """What the analyst's view must show for a published copy, computed from its Parquet file."""
    with duckdb.connect() as con:
        return con.execute(
            "SELECT count(*), sum(net_revenue), sum(contribution_margin) "
            f"FROM read_parquet({sql_literal(copy.parquet('fct_customer_profit_monthly'))})"
        ).fetchone()


def relation_oid(conn, name: str) -> int:
    return conn.execute("SELECT %s::regclass::oid", [name]).fetchone()[0]


def test_an_analysts_view_survives_every_publication_and_reads_fresh_numbers(
    pg_database, published, small_copy, analyst, monkeypatch
):
    monkeypatch.setenv(ENV_URL, pg_database.url)
    monkeypatch.setenv("STRATA_POSTGRES_BI_ROLE", pg_database.bi_role)
    assert _run_asset(published.version.parent.parent).success
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
        view = f"{schema}.profit_overview"
        oids = relation_oid(conn, view), relation_oid(conn, "marts.fct_customer_profit_monthly")
        assert conn.execute(f"SELECT * FROM {view}").fetchone() == profit_overview(published)
        # strata runs twice more, with other numbers and back: the view shows each run's numbers.
        for copy in (small_copy, published):
            assert _run_asset(copy.version.parent.parent).success
            assert conn.execute(f"SELECT * FROM {view}").fetchone() == profit_overview(copy)
        assert profit_overview(small_copy) != profit_overview(published)
        # the same view and table, not look-alikes: their data was replaced, not the objects
        assert (relation_oid(conn, view), relation_oid(conn, "marts.fct_customer_profit_monthly")) == oids


def test_readers_with_the_bi_role_see_no_error_while_strata_publishes(
    pg_database, published, small_copy, analyst
):
    target = pg_database.target()
    publish_postgres(published, target)
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
    expected = {profit_overview(published), profit_overview(small_copy)}
    seen, problems, stop = [], [], threading.Event()

    def reader() -> None:
        with psycopg.connect(analyst, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone())
                    conn.execute("SELECT count(*) FROM marts.segment_kpis").fetchone()
                except psycopg.Error as exc:
                    problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            publish_postgres(small_copy if i % 2 == 0 else published, target)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert problems == []
    assert len(seen) > 20
    assert set(seen) == expected  # one publication or the other, both seen, never an empty mart


def _republish(warehouse: Path, out: Path, run_id: str, *statements: str):
    """The fixture warehouse changed by `statements`, published again: the new current copy."""
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)
    publish(warehouse, out, run_id)
    return open_published(out)


def test_a_new_column_is_added_in_place(pg_database, published, warehouse, out_dir, analyst):
    target = pg_database.target()
    publish_postgres(published, target)
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
        before = relation_oid(conn, "marts.fct_customer_profit_monthly")
    grown = _republish(
        warehouse,
        out_dir,
        "grown",
        "ALTER TABLE marts.fct_customer_profit_monthly ADD COLUMN region VARCHAR",
        "UPDATE marts.fct_customer_profit_monthly SET region = 'EMEA'",
    )
    publish_postgres(grown, target)
    with psycopg.connect(analyst, autocommit=True) as conn:
        assert relation_oid(conn, "marts.fct_customer_profit_monthly") == before
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(grown)
        assert conn.execute(
            "SELECT count(*), count(DISTINCT region), min(region) FROM marts.fct_customer_profit_monthly"
        ).fetchone() == (grown.tables["fct_customer_profit_monthly"]["rows"], 1, "EMEA")


def test_a_type_change_under_a_view_is_refused_naming_the_view(
    pg_database, published, warehouse, out_dir, analyst
):
    target = pg_database.target()
    publish_postgres(published, target)
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
    with pg_database.connect() as conn:
        before = counts(conn)
    retyped = _republish(
        warehouse,
        out_dir,
        "retyped",
        "ALTER TABLE marts.fct_customer_profit_monthly ALTER COLUMN net_revenue TYPE DOUBLE",
    )
    with pytest.raises(PostgresPublishError) as refused:
        publish_postgres(retyped, target)
    message = str(refused.value)
    assert f"view {schema}.profit_overview" in message
    assert "net_revenue changes type (numeric(18,2) → double precision)" in message
    assert not refused.value.transient  # the jobs must not retry it
    with pg_database.connect() as conn:  # nothing changed: the previous publication, the view reads it
        assert counts(conn) == before
        assert "pg-run-1" in conn.execute("SELECT obj_description('marts'::regnamespace)").fetchone()[0]
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(
            published
        )

    # A dropped column the view uses is refused the same way.
    dropped = _republish(
        warehouse,
        out_dir,
        "dropped",
        "ALTER TABLE marts.fct_customer_profit_monthly ALTER COLUMN net_revenue TYPE DECIMAL(18,2)",
        "ALTER TABLE marts.fct_customer_profit_monthly DROP COLUMN contribution_margin",
    )
    with pytest.raises(
        PostgresPublishError, match=f"contribution_margin is no longer published, used by view {schema}"
    ):
        publish_postgres(dropped, target)


def test_a_type_change_no_view_uses_is_made_in_place(pg_database, published, warehouse, out_dir, analyst):
    target = pg_database.target()
    publish_postgres(published, target)
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))  # uses 3 columns, not cogs
    retyped = _republish(
        warehouse,
        out_dir,
        "retyped",
        "ALTER TABLE marts.fct_customer_profit_monthly ALTER COLUMN cogs TYPE DECIMAL(38,12)",
    )
    publish_postgres(retyped, target)
    with psycopg.connect(analyst, autocommit=True) as conn:
        assert conn.execute(
            "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'fct_customer_profit_monthly' AND column_name = 'cogs'"
        ).fetchone() == ("numeric", 38, 12)
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(retyped)


def test_the_bi_role_can_read_the_marts_and_nothing_else(pg_database, published):
    target = pg_database.target()
    publish_postgres(published, target)
    publish_postgres(published, target)  # grants survive a swap
    with pg_database.connect(autocommit=True) as conn:
        assert conn.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [target.bi_role]
        ).fetchone() == (False,)
        conn.execute("CREATE TABLE IF NOT EXISTS public.payroll (amount numeric)")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(target.bi_role)))
        try:
            for table in MART_KEYS:
                conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("marts", table)))
            forbidden = [
                "INSERT INTO marts.account_playbook (customer_no) VALUES ('X')",
                "UPDATE marts.segment_kpis SET customers = 0",
                "DELETE FROM marts.margin_reconciliation",
                "TRUNCATE marts.customer_segments",
                "CREATE TABLE marts.mine (x int)",
                "CREATE VIEW marts.mine AS SELECT 1 AS x",
                "CREATE TABLE public.mine (x int)",
                "CREATE SCHEMA mine",
                "SELECT * FROM public.payroll",
                "ALTER TABLE marts.segment_kpis ADD COLUMN x int",
                "DROP TABLE marts.segment_kpis",
            ]
            for statement in forbidden:
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
        finally:
            conn.execute("RESET ROLE")
            conn.execute("DROP TABLE public.payroll")


def _run_asset(out: Path, paths: StrataPaths | None = None) -> dg.ExecuteInProcessResult:
    """The asset on `paths`, by default the resource as the code location builds it from the
    environment (the STRATA_POSTGRES_* variables as `dg.EnvVar`s)."""
    paths = paths or paths_from_env(landing_dir=str(out / "landing"), out_dir=str(out))
    return dg.materialize(
        [postgres_marts],
        resources={"paths": paths},
        raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral(),
    )


def _with_password(url: str, port: str | None = None) -> str:
    """`url` as a URL with PASSWORD in it (and another port, if given)."""
    params = conninfo_to_dict(url)
    port = port or params.get("port", "5432")
    return f"postgresql://{params['user']}:{PASSWORD}@{params['host']}:{port}/{params['dbname']}"


def test_the_asset_publishes_and_never_shows_the_password(pg_database, published, monkeypatch):
    monkeypatch.setenv(ENV_URL, _with_password(pg_database.url))
    monkeypatch.setenv("STRATA_POSTGRES_BI_ROLE", pg_database.bi_role)
    out = published.version.parent.parent
    paths = paths_from_env(landing_dir=str(out / "landing"), out_dir=str(out))
    assert isinstance(paths.postgres_url, dg.EnvVar)  # the UI shows the variable's name, never the URL
    result = _run_asset(out, paths)
    assert result.success
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["rows/segment_kpis"].value == published.tables["segment_kpis"]["rows"]
    assert mat.metadata["target"].value == mask_conninfo(pg_database.url)
    everything = repr(result.all_events) + repr(mat.metadata)
    assert PASSWORD not in everything


def test_a_connection_failure_never_shows_the_password(pg_database, published, monkeypatch):
    bad = _with_password(pg_database.url, port="1")  # nothing listens on port 1
    monkeypatch.setenv(ENV_URL, bad)
    # No retry (an unreachable server is retried 10, 30 and 70 s later: tests/orchestration/
    # test_retries_and_alerts.py): the failure itself, as the last try leaves it, is what is checked.
    monkeypatch.setattr(assets.core.retries, "MAX_RETRIES", 0)
    result = _run_asset(published.version.parent.parent)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "cannot connect to PostgreSQL" in failure.step_failure_data.error.message
    assert PASSWORD not in repr(result.all_events)
    with pytest.raises(PostgresPublishError) as unreachable:
        publish_postgres(published, PostgresTarget(conninfo=bad, connect_timeout_s=3))
    assert unreachable.value.transient and PASSWORD not in str(unreachable.value)


def test_the_target_is_the_resources_not_the_environments(pg_database, published, monkeypatch):
    monkeypatch.setenv(ENV_URL, "postgresql://nobody@127.0.0.1:1/never")  # not read: the resource decides
    out = published.version.parent.parent
    paths = StrataPaths(landing_dir=str(out / "landing"), out_dir=str(out), postgres_url=pg_database.url,
                        postgres_bi_role=pg_database.bi_role, postgres_schema="marts_from_resource")
    result = _run_asset(out, paths)
    assert result.success
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["schema"].value == "marts_from_resource"
    with pg_database.connect() as conn:
        rows = conn.execute("SELECT count(*) FROM marts_from_resource.segment_kpis").fetchone()[0]
    assert rows == published.tables["segment_kpis"]["rows"]


def test_without_the_url_the_asset_materialises_nothing(published, monkeypatch):
    monkeypatch.delenv(ENV_URL, raising=False)
    result = _run_asset(published.version.parent.parent)
    assert result.success
    assert result.get_asset_materialization_events() == []

"""Reruns of a whole real strata run (generated extracts → `orchestration.runner.materialize` → every
publishing asset, `postgres_marts` included), seen from the raw layer and from an analyst's view on
the PostgreSQL marts.

One chain of two real runs on a copy of the session's run (they were two tests with three runs):
a rerun with nothing changed, then a rerun after the ERP re-delivered one month of sales lines with
one line changed."""

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from assets.publishing import open_published
from assets.publishing.postgres import ENV_URL, publish_postgres
from orchestration.generator.landing import write_batch
from orchestration.runner import materialize
from tests.publishing.test_postgres import PROFIT_VIEW, profit_overview, relation_oid

pytestmark = pytest.mark.slow


def _raw_snapshot(warehouse: Path) -> dict[str, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1").fetchall()]
        return {
            t: con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t} ORDER BY ALL").fetchall() for t in tables
        }


def _redeliver_one_changed_line(landing: Path, month: str) -> dict:
    """The ERP re-delivers `month`'s sales lines with the first line's discount 1 higher and its net
    amount 1 lower (and the manifest updated). Returns that line as it was."""
    batch = landing / "erp" / "sales_lines" / month
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT * FROM read_csv('{batch}/*.csv', all_varchar=true)").fetchdf()  # file order: lines keep their numbers
    rows = rows.astype(object).where(rows.notna(), None)
    first = rows.iloc[0]
    rows.loc[0, "line_discount_amount"] = str(Decimal(first["line_discount_amount"]) + 1)
    rows.loc[0, "net_amount"] = str(Decimal(first["net_amount"]) - 1)
    write_batch(landing, "erp", "sales_lines", month, rows.to_dict("records"))
    return first


def test_a_rerun_changes_nothing_a_redelivery_exactly_its_batch_and_an_analysts_view_follows(
    e2e_run, pg_database, analyst, tmp_path, monkeypatch
):
    landing_root, report = e2e_run
    landing, out = tmp_path / "landing", tmp_path / "out"
    shutil.copytree(landing_root, landing)
    shutil.copytree(report.warehouse.parent, out, symlinks=True)
    before = _raw_snapshot(out / "warehouse.duckdb")
    monkeypatch.setenv(ENV_URL, pg_database.url)
    monkeypatch.setenv("STRATA_POSTGRES_BI_ROLE", pg_database.bi_role)

    # The session's real run in PostgreSQL; the analyst builds a dashboard view on it.
    first = open_published(out)
    publish_postgres(first, pg_database.target())
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
        view_oid = relation_oid(conn, f"{schema}.profit_overview")
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(first)

    # Run 1: nothing changed in the landing folder, so no raw row changes.
    rerun = materialize(landing, out)
    assert rerun.success, "\n".join(rerun.failures)
    assert _raw_snapshot(out / "warehouse.duckdb") == before

    # Run 2, after the ERP re-delivered one month (not the newest) with one line changed: exactly
    # that line changes in the raw layer, and strata itself publishes to PostgreSQL, where the same
    # view shows the new numbers.
    month = sorted(p.name for p in (landing / "erp" / "sales_lines").iterdir())[-3]
    changed = _redeliver_one_changed_line(landing, month)
    second = materialize(landing, out)
    assert second.success, "\n".join(second.failures)
    after = _raw_snapshot(out / "warehouse.duckdb")
    assert {t for t in after if after[t] != before[t]} == {"erp__sales_lines"}
    changed_before = set(before["erp__sales_lines"]) - set(after["erp__sales_lines"])
    changed_after = set(after["erp__sales_lines"]) - set(before["erp__sales_lines"])
    assert len(changed_before) == len(changed_after) == 1
    (new,) = changed_after
    assert new[17] == month and new[2] == int(changed["line_no"])  # _batch, line_no

    assert "postgres_marts" in second.materialized
    fresh = open_published(out)
    assert fresh.run_id == second.run_id
    assert profit_overview(fresh) != profit_overview(first)
    with psycopg.connect(analyst, autocommit=True) as conn:
        assert relation_oid(conn, f"{schema}.profit_overview") == view_oid
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(fresh)

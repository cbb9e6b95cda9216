"""An analyst's view on the PostgreSQL marts across real strata runs (generated extracts →
`orchestration.runner.materialize` → every publishing asset, `postgres_marts` included)."""

import csv
import shutil
from decimal import Decimal

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


def test_an_analysts_view_reads_fresh_numbers_after_each_real_run(
    e2e_run, pg_database, analyst, tmp_path, monkeypatch
):
    landing_root, report = e2e_run
    landing, out = tmp_path / "landing", tmp_path / "out"
    shutil.copytree(landing_root, landing)
    shutil.copytree(report.warehouse.parent, out, symlinks=True)
    monkeypatch.setenv(ENV_URL, pg_database.url)
    monkeypatch.setenv("STRATA_POSTGRES_BI_ROLE", pg_database.bi_role)

    # Run 1 (the session's real run) in PostgreSQL; the analyst builds a dashboard view on it.
    first = open_published(out)
    publish_postgres(first, pg_database.target())
    schema = conninfo_to_dict(analyst)["user"]
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute(sql.SQL(PROFIT_VIEW).format(sql.Identifier(schema)))
        view_oid = relation_oid(conn, f"{schema}.profit_overview")
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(first)

    # The ERP re-delivers the newest month's sales lines with one invoice line 1000.00 higher.
    batches = landing / "erp" / "sales_lines"
    month = sorted(p.name for p in batches.iterdir())[-1]
    with open(batches / month / "part-0001.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    invoice = next(r for r in rows if r["document_type"] == "INVOICE")
    invoice["net_amount"] = str(Decimal(invoice["net_amount"]) + Decimal("1000.00"))
    shutil.rmtree(batches / month)
    write_batch(landing, "erp", "sales_lines", month, rows)

    # Run 2: strata itself publishes to PostgreSQL; the same view shows the new numbers.
    second = materialize(landing, out)
    assert second.success, "\n".join(second.failures)
    assert "postgres_marts" in second.materialized
    fresh = open_published(out)
    assert fresh.run_id == second.run_id
    assert profit_overview(fresh) != profit_overview(first)
    with psycopg.connect(analyst, autocommit=True) as conn:
        assert relation_oid(conn, f"{schema}.profit_overview") == view_oid
        assert conn.execute(f"SELECT * FROM {schema}.profit_overview").fetchone() == profit_overview(fresh)

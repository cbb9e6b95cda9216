"""Descriptions of the published tables and columns: from the dbt manifest into the published DuckDB
file and PostgreSQL, and complete for every column a real run publishes."""

from pathlib import Path

import duckdb
import pytest
import yaml

from assets.descriptions import TableDescription, table_descriptions
from assets.ingestion.audit import create_audit_tables
from assets.publishing import open_published, publish_version
from assets.publishing.postgres import publish_postgres

AUDIT_SOURCES = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "audit" / "_audit__sources.yml"
)


def test_descriptions_are_read_from_models_and_sources_of_the_manifest():
    manifest = {  # the parts of dbt's manifest.json that matter, as dbt writes them
        "nodes": {
            "model.strata.segment_kpis": {
                "resource_type": "model",
                "schema": "marts",
                "name": "segment_kpis",
                "alias": "segment_kpis",
                "description": "KPIs per\n  segment.",
                "columns": {"aov": {"description": "Average order value."}, "cltv": {"description": ""}},
            },
            "test.strata.not_null_x": {"resource_type": "test", "schema": "marts", "name": "x"},
        },
        "sources": {
            "source.strata.audit.load_batches": {
                "source_name": "audit",
                "schema": "audit",
                "name": "load_batches",
                "identifier": "load_batches",
                "description": "One row per batch.",
                "columns": {"status": {"description": "LOADED or REFUSED."}},
            }
        },
    }
    assert table_descriptions(manifest) == {
        ("marts", "segment_kpis"): TableDescription("KPIs per segment.", {"aov": "Average order value."}),
        ("audit", "load_batches"): TableDescription("One row per batch.", {"status": "LOADED or REFUSED."}),
    }


def test_the_audit_descriptions_cover_exactly_the_audit_tables_columns():
    """The audit tables' DDL lives in ingestion, their descriptions in the dbt source: kept equal."""
    source = yaml.safe_load(AUDIT_SOURCES.read_text(encoding="utf-8"))["sources"][0]
    described = {t["name"]: [c["name"] for c in t["columns"]] for t in source["tables"]}
    with duckdb.connect() as con:
        create_audit_tables(con)
        actual = {
            table: [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'audit' AND table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            for table in ("load_batches", "quarantined_rows")
        }
    assert described == actual


def test_descriptions_become_comments_in_the_duckdb_file_and_postgresql(warehouse, out_dir, pg_database):
    descriptions = {
        ("marts", "segment_kpis"): TableDescription(
            "KPIs per segment — it's the segments' scorecard.", {"aov": "Average order value (LCY)."}
        ),
        ("audit", "load_batches"): TableDescription("One row per batch.", {"status": "LOADED or REFUSED."}),
    }
    pub = publish_version(warehouse, out_dir, "described", descriptions=descriptions)
    assert "segment_kpis" not in pub.undescribed and "segment_kpis.aov" not in pub.undescribed
    assert {"segment_kpis.cltv", "margin_reconciliation", "audit_load_batches.file"} <= set(pub.undescribed)
    copy = open_published(out_dir)
    assert copy.tables["segment_kpis"]["description"] == "KPIs per segment — it's the segments' scorecard."
    with duckdb.connect(str(copy.duckdb_file), read_only=True) as con:
        assert con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'segment_kpis'"
        ).fetchone() == ("KPIs per segment — it's the segments' scorecard.",)
        comments = dict(
            con.execute(
                "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() WHERE NOT internal"
            ).fetchall()
        )
    assert comments["segment_kpis.aov"] == "Average order value (LCY)."
    assert comments["audit_load_batches.status"] == "LOADED or REFUSED."
    assert comments["segment_kpis.cltv"] is None

    publish_postgres(copy, pg_database.target())
    with pg_database.connect() as conn:
        table_comment, aov = conn.execute(
            "SELECT obj_description('marts.segment_kpis'::regclass, 'pg_class'), "
            "col_description('marts.segment_kpis'::regclass, "
            "  (SELECT attnum FROM pg_attribute WHERE attrelid = 'marts.segment_kpis'::regclass "
            "   AND attname = 'aov'))"
        ).fetchone()
    assert table_comment.startswith("KPIs per segment — it's the segments' scorecard.\n\nPublished copy ")
    assert aov == "Average order value (LCY)."


@pytest.mark.slow
def test_every_column_of_a_real_run_is_described_in_duckdb_and_postgresql(e2e_run, pg_database):
    """The columns come from what the run published, not from a list here: a mart or a column
    added later is covered as soon as it is published (and fails this test until it is described)."""
    _, report = e2e_run
    copy = open_published(report.warehouse.parent)
    with duckdb.connect(str(copy.duckdb_file), read_only=True) as con:
        tables = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    assert {t for t, _ in tables} == set(copy.tables)
    assert [t for t, comment in tables if not (comment or "").strip()] == []
    assert len(columns) > 100
    assert [f"{t}.{c}" for t, c, comment in columns if not (comment or "").strip()] == []

    publish_postgres(copy, pg_database.target())
    with pg_database.connect() as conn:
        pg_columns = conn.execute(
            "SELECT c.relname, a.attname, col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = 'marts' AND c.relkind = 'r'"
        ).fetchall()
    marts = {name for name, t in copy.tables.items() if t["schema"] == "marts"}
    assert {t for t, *_ in pg_columns} == marts
    assert [f"{t}.{c}" for t, c, comment, _ in pg_columns if not (comment or "").strip()] == []
    assert [t for t, _, _, comment in pg_columns if not (comment or "").strip()] == []

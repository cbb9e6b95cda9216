"""The whole pipeline on generated extracts, through `strata materialize` and the Dagster graph.

Reruns of the same run (nothing changed, a re-delivered batch) are in
tests/publishing/test_postgres_end_to_end.py, which also follows them into PostgreSQL; a rerun
whose batch is refused is here (it keeps the published copy, the report and the finance files)."""

import json
import shutil
import subprocess
import sys
from decimal import Decimal

import duckdb

from assets.core.sql import sql_literal
from assets.publishing import MART_KEYS, open_published


def _warehouse(report):
    return duckdb.connect(str(report.warehouse), read_only=True)


def test_every_batch_is_loaded_and_matches_its_manifest(sample_run):
    summary, report = sample_run
    landing = summary.landing_root
    with _warehouse(report) as con:
        audit = con.execute(
            "SELECT system, entity, batch, status, rows_read, rows_loaded, rows_quarantined "
            "FROM audit.load_batches").fetchall()
        assert {row[3] for row in audit} == {"LOADED"}
        manifests = sorted(landing.glob("*/*/*/_manifest.json"))
        assert len({(s, e, b) for s, e, b, *_ in audit}) == len(manifests)
        loaded = {(s, e, b): (read, ok, q) for s, e, b, _, read, ok, q in audit}
        for path in manifests:
            m = json.loads(path.read_text())
            read, ok, quarantined = loaded[(m["system"], m["entity"], m["batch"])]
            assert read == sum(f["rows"] for f in m["files"]) == ok + quarantined
            assert quarantined == 0  # the generator writes only valid rows
            table = f'raw.{m["system"]}__{m["entity"]}'
            for column, total in m["control_totals"].items():
                got = con.execute(
                    f'SELECT coalesce(sum("{column}"), 0) FROM {table} WHERE _batch = ?', [m["batch"]]
                ).fetchone()[0]
                assert got == Decimal(total), (table, m["batch"], column)


def test_reconciliation_finds_exactly_the_planted_ledger_difference(sample_run):
    summary, report = sample_run
    with _warehouse(report) as con:
        pools = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'OK') FROM marts.margin_reconciliation "
            "WHERE line_item LIKE 'COST_POOL:%'").fetchone()
        assert pools[0] == 6 * len(summary.months) and pools[1] == pools[0]
        differences = con.execute(
            "SELECT strftime(month, '%Y-%m'), line_item, difference FROM marts.margin_reconciliation "
            "WHERE status = 'DIFFERENCE' ORDER BY 1, 2").fetchall()
    planted = [(p.month, p.line_item, p.expected_difference) for p in summary.planted_differences]
    assert planted and differences == planted


def test_every_mart_is_published_as_parquet(sample_run):
    _, report = sample_run
    published = open_published(report.published.parent)
    con = duckdb.connect()
    for table, key in MART_KEYS.items():
        files = list((report.published / table).rglob("*.parquet"))  # monthly marts: one folder a month
        assert files, f"{table} was not published"
        n, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT ({', '.join(key)})) "
            f"FROM read_parquet({sql_literal(published.parquet(table))})"
        ).fetchone()
        assert n > 0 and n == distinct, table


def test_a_refused_batch_exits_nonzero_naming_it_and_keeps_the_published_copy_report_and_finance_files(
    sample_run, tmp_path
):
    # A rerun on a copy of the sample's run after one batch was re-delivered broken (it loads only
    # that batch): the command fails naming it, and what readers see stays the last good run's.
    summary, report = sample_run
    landing, out = tmp_path / "landing", tmp_path / "out"
    shutil.copytree(summary.landing_root, landing)
    shutil.copytree(report.warehouse.parent, out, symlinks=True)
    before = open_published(out)
    report_page = (out / "report" / "index.html").read_bytes()
    finance = (out / "finance" / "margin_reconciliation.csv").read_bytes()
    part = landing / "crm" / "activities" / summary.months[0] / "part-0001.csv"
    part.write_bytes(part.read_bytes().replace(b",", b";"))  # a European export
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "materialize", "--landing", str(landing), "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 1
    assert "crm/activities" in result.stderr and "part-0001.csv" in result.stderr
    after = open_published(out)  # nothing half-built was published
    assert after.version == before.version and after.run_id == report.run_id
    assert (out / "report" / "index.html").read_bytes() == report_page
    assert (out / "finance" / "margin_reconciliation.csv").read_bytes() == finance

    # A folder of a system the contract does not know is refused before any work (exit 2, nothing
    # written); tests/orchestration/test_cli.py has the messages.
    stray = landing / "hr" / "employees" / summary.months[0]
    stray.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "materialize", "--landing", str(landing), "--out", str(tmp_path / "out2")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "'hr'" in result.stderr and not (tmp_path / "out2").exists()


def test_cli_refuses_an_invalid_configuration_before_running(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("currency: {lcy: usd}\n")
    (tmp_path / "landing" / "erp" / "sales_lines" / "2025-01").mkdir(parents=True)  # passes the landing check
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "materialize", "--landing", str(tmp_path / "landing"),
         "--out", str(tmp_path / "out"), "--config", str(bad)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "currency.lcy" in result.stderr and "cost_to_serve: Field required" in result.stderr

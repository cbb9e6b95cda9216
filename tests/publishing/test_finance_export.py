"""The finance export: CSV files with exact decimal text, from the published copy."""

import csv
from decimal import Decimal

import dagster as dg
import duckdb

from assets.finance_export import export_finance, finance_export
from assets.publishing import open_published, publish
from orchestration.resources import StrataPaths
from tests.publishing.fixture import MART_COLUMNS


def test_the_reconciliation_and_the_waterfall_are_exported_exactly(warehouse, out_dir):
    publish(warehouse, out_dir, "fin-1")
    result = export_finance(open_published(out_dir), out_dir / "finance")
    assert set(result.files) == {"margin_reconciliation.csv", "customer_profit_waterfall.csv"}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for file_name, table in (
            ("margin_reconciliation.csv", "margin_reconciliation"),
            ("customer_profit_waterfall.csv", "fct_customer_profit_monthly"),
        ):
            path = out_dir / "finance" / file_name
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            header, body = rows[0], rows[1:]
            assert header[: len(MART_COLUMNS[table])] == [c for c, _ in MART_COLUMNS[table]]
            expected = con.execute(f"SELECT * FROM marts.{table} ORDER BY ALL").fetchall()
            assert len(body) == len(expected) == result.rows[file_name]
            # Money is exact decimal text with two places; empty stays empty.
            money = [i for i, (_, t) in enumerate(MART_COLUMNS[table]) if t == "DECIMAL(18,2)"]
            for row in body:
                for i in money:
                    assert row[i] == "" or (Decimal(row[i]).as_tuple().exponent == -2 and "," not in row[i])
            parsed = sorted(
                tuple(
                    row[0] if i == 0 else (Decimal(v) if i in money and v else (v or None))
                    for i, v in enumerate(row[: len(MART_COLUMNS[table])])
                )
                for row in body
            )
            want = sorted(
                tuple(r[0].isoformat() if i == 0 else r[i] for i in range(len(MART_COLUMNS[table])))
                for r in expected
            )
            assert parsed == want, file_name
            # Sorted by the key (month, then line item / customer).
            keys = [(r[0], r[1]) for r in body]
            assert keys == sorted(keys)


def test_the_asset_writes_the_files(warehouse, out_dir):
    publish(warehouse, out_dir, "fin-2")
    result = dg.materialize(
        [finance_export],
        resources={"paths": StrataPaths(landing_dir=str(out_dir / "landing"), out_dir=str(out_dir))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    [mat] = [e.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["rows/margin_reconciliation.csv"].value > 0
    assert (out_dir / "finance" / "customer_profit_waterfall.csv").stat().st_size > 0
    assert not list((out_dir / "finance").glob(".*.tmp"))

# ruff: noqa: E501  (expected rows read best on one line)
"""The Dagster ingestion assets, materialised for real on an ephemeral instance and temp folders."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from assets.core.contract import entities
from assets.core.partitions import month_partitions
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.ingestion.assets import INGESTION_KEYS, ingestion_assets, landing_refusals
from orchestration.generator.landing import write_batch
from tests.ingestion.helpers import FX, SL, sales, write_csv, write_file

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
MONTHS = month_partitions("2026-01")
LOADS = ingestion_assets(MONTHS)


def test_one_asset_per_contract_entity():
    assert sorted(a.key for a in LOADS) == sorted(INGESTION_KEYS) == sorted(dg.AssetKey([s, e]) for s, e in entities())
    for a in LOADS:
        system, name = a.key.path
        spec = next(iter(a.specs))
        assert spec.group_name == f"ingestion_{system}"
        assert a.partitions_def == MONTHS
        assert a.backfill_policy == dg.BackfillPolicy.single_run()
        assert "paths" in a.required_resource_keys
        assert f"raw.{system}__{name}" in spec.description
        assert spec.metadata["dagster/table_name"] == f"raw.{system}__{name}"
        assert a.op.pool == WAREHOUSE_WRITER_POOL
    dg.Definitions(assets=LOADS,
                   resources={"paths": StrataPaths(landing_dir="l", out_dir="o")}).resolve_all_job_defs()


def test_landing_refusals_name_the_folders_that_are_no_batch(landing):
    for rel in ("erp/fx_rates/2026-10", "crm/accounts/2026-11", "erp/fx_rates/2026-13"):
        (landing / rel).mkdir(parents=True)
    assert [r.path for r in landing_refusals(landing)] == ["erp/fx_rates/2026-13"]


@pytest.fixture
def delivered(landing):
    write_csv(landing, "erp", "fx_rates", "2026-09", FX, [["2026-09-30", "EUR", "1.07"]])
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"], ["2026-10-31", "GBP", "?"]])
    write_csv(landing, "erp", "sales_lines", "2026-09", SL, [sales(posting_date="2026-09-30")])
    write_file(landing, "erp", "sales_lines", "2026-10",
               ",".join(SL).encode() + b"\n" + ",".join(sales(customer_no="M\xfcller")).encode("latin-1") + b"\n")
    write_batch(landing, "crm", "accounts", "2026-10", [{
        "account_id": "001A", "account_name": "Acme", "erp_customer_no": "C1", "industry": None,
        "employee_count": 40, "owner_role": "INSIDE_SALES", "created_date": dt.date(2020, 1, 1),
        "is_deleted": False}])
    (landing / "erp" / "fx_rates" / "oct-2026").mkdir()  # fails the fx_rates asset, after loading
    (landing / "CRM").mkdir()  # belongs to no entity: audited and logged only
    return landing


def test_materialising_a_range_loads_the_good_batches_and_fails_on_the_refused(tmp_path, delivered):
    instance = dg.DagsterInstance.ephemeral()
    paths = StrataPaths(landing_dir=str(delivered), out_dir=str(tmp_path / "out"))
    result = dg.materialize(LOADS, instance=instance, resources={"paths": paths},
                            tags={RANGE_START: "2026-09", RANGE_END: "2026-10"}, raise_on_error=False)

    assert not result.success
    failures = {e.step_key: e.step_failure_data for e in result.all_events if e.is_step_failure}
    assert sorted(failures) == ["erp__fx_rates", "erp__sales_lines"]
    sales_failure = failures["erp__sales_lines"].user_failure_data
    assert sales_failure.description.startswith("erp/sales_lines: 1 refusal(s); 1 batch(es) loaded.\n- ")
    assert ("erp/sales_lines/2026-10/part-0001.csv: the file is not UTF-8: invalid byte 0xFC on line 2"
            in sales_failure.description)
    assert "Latin-1" in sales_failure.description
    assert sales_failure.metadata["rows_loaded"].value == 1
    assert sales_failure.metadata["batches_refused"].value == 1
    fx_failure = failures["erp__fx_rates"].user_failure_data
    assert "erp/fx_rates/oct-2026: batch folder 'oct-2026' is not a month" in fx_failure.description
    assert (fx_failure.metadata["rows_read"].value, fx_failure.metadata["rows_loaded"].value,
            fx_failure.metadata["rows_quarantined"].value) == (3, 2, 1)

    materialized = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["crm", "accounts"]) in materialized
    accounts = materialized[dg.AssetKey(["crm", "accounts"])]
    assert (accounts["rows_read"].value, accounts["rows_loaded"].value, accounts["rows_quarantined"].value) == (1, 1, 0)
    assert accounts["months_without_batch"].value == ["2026-09"]
    assert dg.AssetKey(["psa", "tickets"]) in materialized  # nothing delivered: an empty success
    assert materialized[dg.AssetKey(["psa", "tickets"])]["batches_loaded"].value == 0

    # A step logs its loaded batches in one entry (each entry is a write to the run's event log),
    # a refused batch on its own as an error.
    logs = [r.event_log_entry for r in instance.get_records_for_run(result.run_id).records
            if r.event_log_entry.dagster_event is None]
    fx_logs = [e for e in logs if e.step_key == "erp__fx_rates"]
    loaded = [e.user_message.splitlines() for e in fx_logs if e.level == logging.INFO]
    assert loaded == [["2026-09: loaded 1 of 1 rows from 1 file(s); no manifest",
                       "2026-10: loaded 1 of 2 rows from 1 file(s); 1 row(s) quarantined (see audit.quarantined_rows); "
                       "no manifest"]]
    sales_errors = [e.user_message for e in logs if e.step_key == "erp__sales_lines" and e.level == logging.ERROR]
    assert len(sales_errors) == 1 and "is not UTF-8" in sales_errors[0]

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT _batch, currency, rate_to_lcy FROM raw.erp__fx_rates ORDER BY ALL").fetchall() == [
            ("2026-09", "EUR", Decimal("1.07")), ("2026-10", "EUR", Decimal("1.08"))]
        assert con.execute("SELECT _batch, count(*) FROM raw.erp__sales_lines GROUP BY ALL").fetchall() == [
            ("2026-09", 1)]
        assert con.execute("SELECT system, entity, batch, status, rows_read, rows_loaded, rows_quarantined "
                           "FROM audit.load_batches ORDER BY ALL").fetchall() == [
            ("CRM", None, None, "REFUSED", 0, 0, 0),
            ("crm", "accounts", "2026-10", "LOADED", 1, 1, 0),
            ("erp", "fx_rates", "2026-09", "LOADED", 1, 1, 0),
            ("erp", "fx_rates", "2026-10", "LOADED", 2, 1, 1),
            ("erp", "fx_rates", "oct-2026", "REFUSED", 0, 0, 0),
            ("erp", "sales_lines", "2026-09", "LOADED", 1, 1, 0),
            ("erp", "sales_lines", "2026-10", "REFUSED", 0, 0, 0),
        ]


def test_a_single_partition_run_loads_only_its_month(tmp_path, landing):
    write_csv(landing, "erp", "fx_rates", "2026-09", FX, [["2026-09-30", "EUR", "1.07"]])
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, [["2026-10-31", "EUR", "1.08"]])
    instance = dg.DagsterInstance.ephemeral()
    paths = StrataPaths(landing_dir=str(landing), out_dir=str(tmp_path / "out"))
    fx = [a for a in LOADS if a.key == dg.AssetKey(["erp", "fx_rates"])]
    result = dg.materialize(fx, instance=instance, resources={"paths": paths}, partition_key="2026-10")
    assert result.success
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT _batch FROM raw.erp__fx_rates").fetchall() == [("2026-10",)]

"""A re-delivered batch replaces the earlier one, in one transaction; a refused one changes nothing."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.generator.landing import write_batch
from tests.ingestion.helpers import FX, audit_rows, quarantined, rows, write_csv

V1 = [["2026-10-31", "EUR", "1.08"], ["2026-10-31", "GBP", "x"]]  # one row quarantined
V2 = [["2026-10-31", "EUR", "1.09"], ["2026-10-31", "CHF", "0.95"], ["2026-10-31", "JPY", "0.0067"]]
RAW = ("SELECT period_end, currency, rate_to_lcy, _batch, _file, _line, _extra FROM raw.erp__fx_rates "
       "ORDER BY ALL")


def test_loading_the_same_batch_twice_is_loading_it_once(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, V1)
    first = load("erp", "fx_rates", "2026-10")
    raw1, q1, a1 = rows(con, RAW), quarantined(con), audit_rows(con)
    second = load("erp", "fx_rates", "2026-10")
    assert rows(con, RAW) == raw1 and len(raw1) == 1
    assert quarantined(con) == q1 and len(q1) == 1
    assert audit_rows(con) == a1 == [("erp", "fx_rates", "2026-10", "LOADED", 2, 1, 1)]
    assert first.fingerprint == second.fingerprint


def test_a_changed_batch_replaces_exactly_that_batch(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-09", FX, [["2026-09-30", "EUR", "1.07"]])
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, V1)
    load("erp", "fx_rates", "2026-09")
    first = load("erp", "fx_rates", "2026-10")
    september = rows(con, "SELECT *, _loaded_at FROM raw.erp__fx_rates WHERE _batch = '2026-09'")
    september_audit = rows(con, "SELECT * FROM audit.load_batches WHERE batch = '2026-09'")

    write_csv(landing, "erp", "fx_rates", "2026-10", FX, V2)
    second = load("erp", "fx_rates", "2026-10")

    assert second.fingerprint != first.fingerprint
    assert rows(con, "SELECT *, _loaded_at FROM raw.erp__fx_rates WHERE _batch = '2026-09'") == september
    assert rows(con, "SELECT * FROM audit.load_batches WHERE batch = '2026-09'") == september_audit
    assert rows(con, "SELECT currency, rate_to_lcy::VARCHAR, _line FROM raw.erp__fx_rates "
                     "WHERE _batch = '2026-10' ORDER BY _line") == [
        ("EUR", "1.090000000000", 2), ("CHF", "0.950000000000", 3), ("JPY", "0.006700000000", 4)]
    assert quarantined(con) == []  # v1's quarantined row went with v1
    assert audit_rows(con) == [("erp", "fx_rates", "2026-09", "LOADED", 1, 1, 0),
                               ("erp", "fx_rates", "2026-10", "LOADED", 3, 3, 0)]


def test_a_refused_redelivery_keeps_the_previous_rows_and_quarantine(landing, load, con):
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, V1)
    first = load("erp", "fx_rates", "2026-10")
    raw1, q1 = rows(con, RAW), quarantined(con)
    write_csv(landing, "erp", "fx_rates", "2026-10", FX[:2], [["2026-10-31", "EUR"]])  # a column missing
    refused = load("erp", "fx_rates", "2026-10")
    assert refused.status == "REFUSED"
    assert rows(con, RAW) == raw1
    assert quarantined(con) == q1
    assert rows(con, "SELECT status, rows_read, rows_loaded, rows_quarantined, fingerprint "
                     "FROM audit.load_batches ORDER BY status") == [("LOADED", 2, 1, 1, first.fingerprint),
                                            ("REFUSED", 0, 0, 0, refused.fingerprint)]
    assert refused.fingerprint != first.fingerprint


def test_a_failure_inside_the_replacement_rolls_everything_back(landing, load, con):
    # A warehouse that rejects the new version's rows mid-transaction (a CHECK constraint): the old
    # rows, their quarantine and their audit row must all survive.
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.erp__fx_rates (period_end DATE, currency VARCHAR, "
                "rate_to_lcy DECIMAL(38,12) CHECK (rate_to_lcy < 1.5), _batch VARCHAR, _file VARCHAR, "
                "_line BIGINT, _extra JSON, _loaded_at TIMESTAMP)")
    write_csv(landing, "erp", "fx_rates", "2026-10", FX, V1)
    load("erp", "fx_rates", "2026-10")
    before = rows(con, RAW), quarantined(con), audit_rows(con)
    write_csv(landing, "erp", "fx_rates", "2026-10", FX,
              [["2026-10-31", "EUR", "1.09"], ["2026-10-31", "XAU", "2000"]])
    with pytest.raises(duckdb.ConstraintException):
        load("erp", "fx_rates", "2026-10")
    assert (rows(con, RAW), quarantined(con), audit_rows(con)) == before
    assert rows(con, "SELECT count(*) FROM duckdb_tables() WHERE temporary") == [(0,)]  # temp tables dropped


def test_snapshots_keep_every_month(landing, load, con):
    def account(account_id: str) -> dict:
        return {"account_id": account_id, "account_name": "A", "erp_customer_no": None, "industry": None,
                "employee_count": None, "owner_role": "INSIDE_SALES", "created_date": "2020-01-01",
                "is_deleted": False}
    write_batch(landing, "crm", "accounts", "2026-09", [account("001A")])
    write_batch(landing, "crm", "accounts", "2026-10", [account("001A"), account("001B")])
    load("crm", "accounts", "2026-09")
    load("crm", "accounts", "2026-10")
    load("crm", "accounts", "2026-09")  # a late re-delivery of the older snapshot
    assert rows(con, "SELECT _batch, account_id FROM raw.crm__accounts ORDER BY ALL") == [
        ("2026-09", "001A"), ("2026-10", "001A"), ("2026-10", "001B")]

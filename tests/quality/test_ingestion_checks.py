"""The ingestion checks on small raw layers: each passes on good data and fails on planted bad data."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import dagster as dg
import yaml

from assets.core.contract import entity
from assets.core.settings import DEFAULT_CONFIG_FILE
from quality import gx_runner, ingestion_checks, ranges, suites
from quality.ingestion_checks import coverage_body, fx_band_body, quarantine_body, value_ranges_body
from tests.quality.conftest import failed_rules, meta

D = Decimal


def sales_line(
    doc: str,
    line: int,
    day: dt.date,
    customer: str = "C1",
    quantity: str = "2",
    price: str = "10",
    document_type: str = "INVOICE",
    currency: str = "USD",
) -> dict:
    return {
        "document_type": document_type,
        "document_no": doc,
        "line_no": line,
        "posting_date": day,
        "customer_no": customer,
        "item_no": "I1",
        "quantity": D(quantity),
        "unit_price": D(price),
        "line_discount_amount": D("0"),
        "net_amount": D(quantity) * D(price),
        "currency": currency,
        "cost_amount_lcy": D("15"),
        "order_channel": "EDI",
        "is_drop_ship": False,
        "return_reason": None if document_type == "INVOICE" else "DEFECTIVE",
    }


def customer(no: str, created: dt.date = dt.date(2020, 1, 1)) -> dict:
    return {
        "customer_no": no,
        "customer_name": f"Customer {no}",
        "customer_group": "VAR",
        "country": "US",
        "currency": "USD",
        "payment_terms_days": 30,
        "credit_limit_lcy": D("1000"),
        "created_date": created,
        "status": "ACTIVE",
    }


def run_ranges(wh, system, name, first=None, last=None):
    ent = entity(system, name)
    spec = suites.value_range_suite(ent)
    return value_ranges_body(ent, spec)(wh.env(first, last))


# --- value ranges ---------------------------------------------------------------------------------


def test_value_ranges_pass_on_plausible_sales_lines(wh):
    wh.raw("erp", "sales_lines", "2026-01", [sales_line("D1", 1, dt.date(2026, 1, 5))])
    wh.raw(
        "erp",
        "sales_lines",
        "2026-02",
        [sales_line("D2", 1, dt.date(2026, 2, 5)), sales_line("D2", 2, dt.date(2026, 2, 6), quantity="0")],
    )
    result = run_ranges(wh, "erp", "sales_lines", "2026-01", "2026-02")
    assert result.passed
    assert meta(result, "outcome") == "passed"
    assert meta(result, "rows_checked") == 3
    assert meta(result, "batches_found") == 2
    assert meta(result, "batches") == "2026-01..2026-02"


def test_value_ranges_fail_on_a_negative_quantity_with_batch_count_and_example(wh):
    wh.raw("erp", "sales_lines", "2026-01", [sales_line("D1", 1, dt.date(2026, 1, 5))])
    wh.raw(
        "erp",
        "sales_lines",
        "2026-02",
        [sales_line("D2", 1, dt.date(2026, 2, 5)), sales_line("D2", 2, dt.date(2026, 2, 6), quantity="-3")],
    )
    result = run_ranges(wh, "erp", "sales_lines", "2026-01", "2026-02")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "outcome") == "data failed"
    # -3 × 10 makes net_amount negative too: both rules fail, each on the one row of 2026-02
    assert failed_rules(result) == ["quantity.min", "net_amount.min"]
    failure = meta(result, "failed_expectations")[0]
    assert failure["failing"] == ["2026-02"]
    assert failure["offending_rows"] == 1
    assert failure["unexpected_count"] == 1 and failure["element_count"] == 2
    examples = meta(result, "examples/quantity.min")
    assert "| _batch | _file | _line | document_type | document_no | line_no | quantity |" in examples
    assert "| 2026-02 | erp/sales_lines/2026-02/part-0001.csv | 3 | INVOICE | D2 | 2 |" in examples
    assert result.description.startswith("data failed: quantity ≥ 0: 1 rows in 2026-02")


def test_value_ranges_only_look_at_the_runs_batches(wh):
    wh.raw("erp", "sales_lines", "2026-01", [sales_line("D1", 1, dt.date(2026, 1, 5), quantity="-1")])
    wh.raw("erp", "sales_lines", "2026-02", [sales_line("D2", 1, dt.date(2026, 2, 5))])
    assert run_ranges(wh, "erp", "sales_lines", "2026-02").passed
    assert not run_ranges(wh, "erp", "sales_lines").passed  # no partition: every batch


def test_hours_above_24_and_negative_hours_fail(wh):
    def entry(i, hours):
        return {
            "time_entry_id": i,
            "company_id": 1,
            "member_role": "ENGINEER",
            "work_date": dt.date(2026, 3, 3),
            "hours": D(hours),
            "billable": False,
            "hourly_cost_lcy": D("50"),
        }

    wh.raw("psa", "time_entries", "2026-03", [entry(1, "8"), entry(2, "24")])
    assert run_ranges(wh, "psa", "time_entries", "2026-03").passed
    wh.raw("psa", "time_entries", "2026-03", [entry(3, "25.5"), entry(4, "-1"), entry(5, "30")])
    result = run_ranges(wh, "psa", "time_entries", "2026-03")
    assert failed_rules(result) == ["hours.min", "hours.max"]
    by_rule = {f["rule"]: f for f in meta(result, "failed_expectations")}
    assert by_rule["hours.max"]["offending_rows"] == 2
    assert by_rule["hours.min"]["offending_rows"] == 1


def test_survey_scores_outside_1_to_5_fail(wh):
    def answer(i, score):
        return {
            "response_id": f"R{i}",
            "account_id": "A1",
            "survey_id": "S1",
            "response_date": dt.date(2026, 3, 3),
            "question_code": "Q1",
            "dimension": "DIGITAL_ADOPTION",
            "score": score,
        }

    wh.raw("crm", "survey_responses", "2026-03", [answer(1, 1), answer(2, 5)])
    assert run_ranges(wh, "crm", "survey_responses", "2026-03").passed
    wh.raw("crm", "survey_responses", "2026-03", [answer(3, 0), answer(4, 6)])
    result = run_ranges(wh, "crm", "survey_responses", "2026-03")
    assert failed_rules(result) == ["score.min", "score.max"]


def test_a_snapshot_date_after_the_batch_month_end_fails(wh):
    wh.raw("erp", "customers", "2026-03", [customer("C1", dt.date(2026, 3, 31))])
    assert run_ranges(wh, "erp", "customers", "2026-03").passed
    wh.raw("erp", "customers", "2026-03", [customer("C2", dt.date(2026, 4, 2))])
    result = run_ranges(wh, "erp", "customers", "2026-03")
    assert failed_rules(result) == ["created_date.not_after_batch_end"]
    assert meta(result, "failed_expectations")[0]["failing"] == ["2026-03"]
    assert "| 2026-03 | erp/customers/2026-03/part-0001.csv | 2 | C2 | 2026-04-02 |" in meta(
        result, "examples/created_date.not_after_batch_end"
    )


def test_missing_raw_table_is_reported_not_raised(wh):
    wh.sql("DROP TABLE raw.erp__shipments")
    result = run_ranges(wh, "erp", "shipments", "2026-03")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "outcome") == "table missing"


# --- quarantine share -----------------------------------------------------------------------------


def run_quarantine(wh, first, last=None, config_file=None):
    env = dataclasses.replace(wh.env(first, last), config_file=config_file)
    return quarantine_body(entity("erp", "sales_lines"))(env)


def test_quarantine_share_passes_below_the_warn_share(wh):
    wh.load_batch("erp", "sales_lines", "2026-01", read=1000, quarantined=10)  # exactly 1%
    wh.load_batch("erp", "customers", "2026-01", read=10, quarantined=10)  # another entity
    result = run_quarantine(wh, "2026-01")
    assert result.passed
    assert meta(result, "rows_quarantined") == 10


def test_quarantine_share_warns_then_blocks(wh):
    wh.load_batch("erp", "sales_lines", "2026-01", read=100, quarantined=5)
    wh.quarantine("erp", "sales_lines", "2026-01", 7, "order_channel", "FAX", "not in enum")
    result = run_quarantine(wh, "2026-01")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert failed_rules(result) == ["quarantined_share.warn"]
    assert meta(result, "failed_expectations")[0]["offending_rows"] == 5
    assert (
        "| 2026-01 | not in enum | order_channel | 1 | erp/sales_lines/2026-01/part-0001.csv | 7 | FAX |"
        in meta(result, "examples/quarantined_share.warn")
    )

    wh.load_batch("erp", "sales_lines", "2026-02", read=100, quarantined=30)
    result = run_quarantine(wh, "2026-01", "2026-02")
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert failed_rules(result) == ["quarantined_share.warn", "quarantined_share.error"]
    assert meta(result, "failed_expectations")[1]["failing"] == ["2026-02"]


def test_quarantine_warning_names_the_batch_the_share_and_the_table(wh):
    # 3 of 284 rows: 1.056...% > 1% (warn), < 10% (block): reported, the run publishes.
    wh.load_batch("erp", "sales_lines", "2026-07", read=284, quarantined=3)
    result = run_quarantine(wh, "2026-07")
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.description == (
        "erp/sales_lines quarantined rows, batch 2026-07: 3 of 284 rows (1.1%); above the 1% warning "
        "share (quality.quarantine_warn_share): the rest of each batch loaded and the marts are published "
        "without these rows. The rows, with their file, line and reason, are in audit.quarantined_rows "
        "(published as audit_quarantined_rows)."
    )


def test_quarantine_shares_come_from_the_configuration(wh, tmp_path):
    # 30 of 100 rows quarantined: above the default 10% block share, an ERROR that stops the run ...
    wh.load_batch("erp", "sales_lines", "2026-02", read=100, quarantined=30)
    result = run_quarantine(wh, "2026-02")
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert "above the 10% block share (quality.quarantine_block_share)" in result.description
    # ... but with the block share configured away (null) it is a warning, and 30% < 40% passes.
    base = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())
    for shares, passed in (({"quarantine_warn_share": 0.01, "quarantine_block_share": None}, False),
                           ({"quarantine_warn_share": 0.40, "quarantine_block_share": 0.50}, True)):
        config = tmp_path / "strata.yml"
        config.write_text(yaml.safe_dump({**base, "quality": shares}))
        result = run_quarantine(wh, "2026-02", config_file=config)
        assert result.passed is passed
        assert result.severity == dg.AssetCheckSeverity.WARN


def test_refused_batches_do_not_count(wh):
    wh.load_batch("erp", "sales_lines", "2026-01", read=0, quarantined=0, status="REFUSED")
    assert run_quarantine(wh, "2026-01").passed


# --- referential coverage -------------------------------------------------------------------------


def run_coverage(wh, system, name, first=None, last=None):
    cov = next(c for c in ranges.COVERAGE if (c.system, c.entity) == (system, name))
    return coverage_body(cov, suites.coverage_suite(cov))(wh.env(first, last))


def test_sales_lines_customer_coverage_reads_the_customer_model(wh):
    # int_customers as dbt builds it: the newest snapshot's customers. C2 was in an older snapshot:
    # the raw layer still has it, and the check must not find it there.
    wh.raw("erp", "customers", "2026-01", [customer("C1"), customer("C2")])
    wh.sql("CREATE TABLE intermediate.int_customers AS SELECT 'C1' AS customer_no")
    wh.raw("erp", "sales_lines", "2026-02", [sales_line(f"D{i}", 1, dt.date(2026, 2, 3)) for i in range(99)])
    assert run_coverage(wh, "erp", "sales_lines", "2026-02").passed
    wh.raw(
        "erp",
        "sales_lines",
        "2026-02",
        [
            sales_line("X1", 1, dt.date(2026, 2, 3), customer="C2"),
            sales_line("X2", 1, dt.date(2026, 2, 3), customer="C2"),
        ],
    )
    result = run_coverage(wh, "erp", "sales_lines", "2026-02")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    failure = meta(result, "failed_expectations")[0]
    assert failure["offending_rows"] == 2
    assert meta(result, "matched_share_overall") == 99 / 101
    assert "| C2 | 2 | 2 | 2026-02 | erp/sales_lines/2026-02/part-0001.csv |" in meta(
        result, "examples/customer_coverage.min_share"
    )


def crosswalk(wh, model: str, key: str, rows: list[tuple]) -> None:
    """The dbt crosswalk model as built (its rules are tested by the model's dbt unit tests)."""
    values = ", ".join(f"({k!r}, {c!r})" for k, c in rows)
    wh.sql(f"CREATE TABLE intermediate.{model} AS SELECT * FROM (VALUES {values}) t({key}, customer_no)")


def test_psa_hours_reach_a_customer_through_the_crosswalk(wh):
    # company 1 maps directly, 2 through its CRM account, 3 through a deleted account (UNASSIGNED);
    # company 4 is unknown
    crosswalk(wh, "int_psa_company_customers", "company_id", [(1, "C1"), (2, "C2"), (3, "UNASSIGNED")])

    def entry(i, company, hours):
        return {
            "time_entry_id": i,
            "company_id": company,
            "member_role": "HELPDESK",
            "work_date": dt.date(2026, 3, 3),
            "hours": D(hours),
            "billable": False,
            "hourly_cost_lcy": D("40"),
        }

    wh.raw("psa", "time_entries", "2026-03", [entry(1, 1, "60"), entry(2, 2, "40")])
    assert run_coverage(wh, "psa", "time_entries", "2026-03").passed
    wh.raw("psa", "time_entries", "2026-03", [entry(3, 3, "5"), entry(4, 4, "3")])  # deleted account, unknown
    result = run_coverage(wh, "psa", "time_entries", "2026-03")
    assert not result.passed
    assert meta(result, "matched_share_overall") == 100 / 108
    examples = meta(result, "examples/customer_coverage.min_share")
    assert "| 3 | 1 | 5 | 2026-03 |" in examples and "| 4 | 1 | 3 | 2026-03 |" in examples


def test_crm_activity_minutes_reach_a_customer(wh):
    crosswalk(wh, "int_crm_account_customers", "account_id", [("A1", "C1"), ("A2", "UNASSIGNED")])  # A2 unmapped

    def activity(i, account, minutes):
        return {
            "activity_id": f"X{i}",
            "account_id": account,
            "activity_date": dt.date(2026, 3, 9),
            "activity_type": "CALL",
            "duration_minutes": minutes,
            "owner_role": "INSIDE_SALES",
        }

    wh.raw("crm", "activities", "2026-03", [activity(1, "A1", 100)])
    assert run_coverage(wh, "crm", "activities", "2026-03").passed
    wh.raw("crm", "activities", "2026-03", [activity(2, "A2", 30)])
    result = run_coverage(wh, "crm", "activities", "2026-03")
    assert not result.passed
    assert meta(result, "matched_share_overall") == 100 / 130


def test_payments_for_an_unknown_invoice_are_reported(wh):
    wh.raw(
        "erp",
        "sales_lines",
        "2026-01",
        [
            sales_line("INV1", 1, dt.date(2026, 1, 5)),
            sales_line("CM1", 1, dt.date(2026, 1, 5), document_type="CREDIT_MEMO"),
        ],
    )

    def payment(no, doc):
        return {
            "payment_no": no,
            "customer_no": "C1",
            "document_no": doc,
            "due_date": dt.date(2026, 2, 4),
            "payment_date": dt.date(2026, 2, 1),
            "amount": D("20"),
            "currency": "USD",
        }

    wh.raw("erp", "payments", "2026-02", [payment("P1", "INV1")])
    assert run_coverage(wh, "erp", "payments", "2026-02").passed
    wh.raw("erp", "payments", "2026-02", [payment("P2", "CM1")])  # a credit memo is not an invoice
    result = run_coverage(wh, "erp", "payments", "2026-02")
    assert not result.passed
    assert meta(result, "failed_expectations")[0]["offending_rows"] == 1
    assert "| CM1 | 1 | 1 | 2026-02 |" in meta(result, "examples/invoice_coverage.min_share")


# --- exchange-rate band ---------------------------------------------------------------------------


def fx_rates(wh, rows: list[tuple[str, str, str]]) -> None:
    """Months' rates as the dbt model int_fx_rates holds them (its rule is tested in dbt)."""
    wh.sql("CREATE TABLE IF NOT EXISTS intermediate.int_fx_rates (month DATE, currency VARCHAR, rate_to_lcy DECIMAL(38,12))")
    wh.sql("INSERT INTO intermediate.int_fx_rates VALUES " + ", ".join(f"(DATE '{m}', '{c}', {r})" for m, c, r in rows))


def test_fx_rates_within_the_band_pass_and_a_jump_fails(wh):
    fx_rates(wh, [("2026-01-31", "EUR", "1.10"), ("2026-01-31", "GBP", "1.30")])
    fx_rates(wh, [("2026-02-28", "EUR", "1.35"), ("2026-02-28", "GBP", "1.31")])
    body = fx_band_body(suites.fx_band_suite())
    assert body(wh.env("2026-02")).passed  # EUR +22.7%: inside ±25%
    fx_rates(wh, [("2026-03-31", "EUR", "1.70"), ("2026-03-31", "GBP", "1.31")])
    result = body(wh.env("2026-02", "2026-03"))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    failure = meta(result, "failed_expectations")[0]
    assert failure["failing"] == ["2026-03-31 EUR"]
    examples = meta(result, "examples/rate_change.band")
    assert "| 2026-03 | 2026-03-31 | EUR | 1.7 | 1.35 |" in examples


# --- definitions ----------------------------------------------------------------------------------


def test_ingestion_checks_cover_every_entity_once_per_name():
    defs = ingestion_checks.ingestion_check_defs()
    names = [(d.asset_key.to_user_string(), d.name) for d in defs]
    assert len(names) == len(set(names))
    assert ("erp/sales_lines", "value_ranges") in names
    assert ("erp/fx_rates", "fx_rate_band") in names
    assert {n for k, n in names if k == "erp/sales_lines"} == {
        "value_ranges",
        "quarantine_share",
        "customer_coverage",
    }
    blocking = {(d.asset_key.to_user_string(), d.name) for d in defs if d.blocking}
    assert blocking == {(f"{s}/{e}", "quarantine_share") for s, e in [tuple(k.split("/")) for k, _ in names]}
    # who the customer is is the dbt models' (methodology §2): each coverage check waits for its model
    models = {
        "erp/sales_lines": "int_customers",
        "psa/time_entries": "int_psa_company_customers",
        "crm/activities": "int_crm_account_customers",
    }
    for d in defs:
        if d.name == "customer_coverage":
            assert d.additional_deps == (dg.AssetKey(["intermediate", models[d.asset_key.to_user_string()]]),)
    assert gx_runner.TABLE_MISSING == "table missing"

"""The suites come from the landing contract plus the ranges table, and the table is complete."""

from __future__ import annotations

import typing

from assets.core import settings
from assets.core.contract import entities
from quality import ingestion_checks, ranges, suites
from quality.ranges import ERROR, WARN


def numeric_columns():
    for (system, name), ent in entities().items():
        for col in ent.columns:
            if col.type in ("decimal", "integer"):
                yield (system, name, col.name), ent, col


def test_every_range_names_a_numeric_contract_column_once():
    named = [(r.system, r.entity, r.column) for r in ranges.VALUE_RANGES]
    assert len(named) == len(set(named))
    numeric = {key for key, _, _ in numeric_columns()}
    assert set(named) <= numeric
    assert all(r.severity in (WARN, ERROR) for r in ranges.VALUE_RANGES)


def test_every_numeric_column_has_a_range_or_is_a_key_or_an_identifier():
    ranged = {(r.system, r.entity, r.column) for r in ranges.VALUE_RANGES}
    undecided = [
        key
        for key, ent, col in numeric_columns()
        if key not in ranged and key not in ranges.IDENTIFIER_COLUMNS and col.name not in ent.key
    ]
    assert undecided == []
    assert not ranged & ranges.IDENTIFIER_COLUMNS


def test_the_issues_ranges_are_there():
    by = {(r.system, r.entity, r.column): r for r in ranges.VALUE_RANGES}
    assert (by["psa", "time_entries", "hours"].min, by["psa", "time_entries", "hours"].max) == (0, 24)
    assert (by["crm", "survey_responses", "score"].min, by["crm", "survey_responses", "score"].max) == (1, 5)
    for key in [("erp", "sales_lines", "quantity"), ("erp", "sales_lines", "unit_price")]:
        assert by[key].min == 0
    assert by["erp", "fx_rates", "rate_to_lcy"].strict_min


def test_date_exemptions_are_real_non_batch_by_date_columns():
    for system, name, column in ranges.DATES_MAY_BE_LATER:
        ent = entities()[(system, name)]
        assert ent.column(column).type in ("date", "timestamp")
        assert column != ent.batch_by
    checked = {(e.system, e.name, c) for e in entities().values() for c in suites.dates_checked(e)}
    assert checked == {
        ("erp", "customers", "created_date"),
        ("crm", "accounts", "created_date"),
        ("crm", "opportunities", "created_date"),
    }


def test_value_range_suite_is_derived_from_the_table():
    spec = suites.value_range_suite(entities()[("psa", "time_entries")])
    assert [r.id for r in spec.rules] == ["hours.min", "hours.max", "hourly_cost_lcy.min", "hourly_rate.min"]
    hours_max = spec.by_id["hours.max"]
    assert hours_max.kwargs == {"column": "max__hours", "max_value": 24}
    assert hours_max.violation == '"hours" > 24'
    assert hours_max.example_columns == ("time_entry_id", "hours")
    gx_suite = spec.gx_suite()
    assert gx_suite.name == "psa.time_entries.value_ranges"
    assert [e.meta["rule"] for e in gx_suite.expectations] == [r.id for r in spec.rules]
    assert suites.value_range_suite(entities()[("erp", "items")]) is None  # nothing numeric, no dates


def test_every_suite_builds_with_a_unique_name():
    specs = [s for group in suites.ingestion_suites().values() for s in group]
    specs += [
        suites.cost_pool_suite(1.0),
        suites.ledger_suite(),
        suites.fx_complete_suite(),
        suites.mom_suite(),
        suites.segments_suite(),
        suites.kpi_suite(),
    ]
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    for spec in specs:
        assert len(spec.gx_suite().expectations) == len(spec.rules)
    assert {c.system + "/" + c.entity for c in ranges.COVERAGE} == {
        f"{s}/{e}" for s, e in ingestion_checks.COVERAGE_SQL
    }


def test_codes_and_kpis_agree_with_the_configuration():
    assert set(settings.SEGMENT_CODES) == set(typing.get_args(settings.Segmentation))
    assert set(ranges.KPI_RANGES) <= set(typing.get_args(settings.Kpi))
    tiers = settings.load_settings().segments.maturity.tiers
    assert settings.SEGMENT_CODES["maturity_tier"] == tuple(tiers)
    assert settings.SEGMENT_CODES["maturity_segment"] == tuple(typing.get_args(settings.MaturitySegment))
    rules = {r.id for r in suites.segments_suite().rules}
    assert {f"{s}.one_valid_segment" for s in settings.SEGMENT_CODES} <= rules


def test_blocking_follows_severity():
    assert suites.cost_pool_suite(1.0).blocking
    assert (
        suites.segments_suite().blocking
        and suites.kpi_suite().blocking
        and suites.fx_complete_suite().blocking
    )
    assert not suites.ledger_suite().blocking and not suites.mom_suite().blocking
    items = entities()[("erp", "items")]
    assert suites.quarantine_suite(items, 0.01, 0.10).blocking
    assert not suites.quarantine_suite(items, 0.01, None).blocking  # configured never to block

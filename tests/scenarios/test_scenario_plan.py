"""What a scenario rebuilds: the models' declared settings, the diff of two configurations, the
selection and dbt's arguments (assets/scenarios/plan.py). No warehouse: the dbt manifest only."""

from __future__ import annotations

import json

import pytest

from assets.core.settings import load_settings
from assets.scenarios.plan import (
    ScenarioError,
    build_args,
    changed_settings,
    check_name,
    declared_settings,
    plan_scenario,
    scenario_schemas,
)
from tests.scenarios.settings_scan import settings_read
from tests.support.warehouse import DBT_PROJECT


@pytest.fixture(scope="module")
def manifest():
    # tests/conftest.py builds it at session start, as `strata prepare` does
    return json.loads((DBT_PROJECT / "target" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def production():
    return load_settings().business()


def changed(production, dotted: str, value):
    """A deep copy of production's settings with one dotted key set."""
    copy = json.loads(json.dumps(production))
    node = copy
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return copy


def descendants(manifest, roots):
    from assets.scenarios.run import descendants as walk

    return walk(manifest, roots)


def test_every_model_declares_exactly_the_settings_its_sql_reads(manifest):
    # The planner trusts the declarations; the scan reads the SQL and every macro a model calls.
    assert declared_settings(manifest) == settings_read(manifest)


def test_changed_settings_name_the_leaves(production):
    assert changed_settings(production, production) == []
    weights = changed(production, "segments.strata.profitability.weights.contribution_margin", 0.9)
    assert changed_settings(production, weights) == [
        "segments.strata.profitability.weights.contribution_margin"
    ]
    target = changed(production, "kpis.targets.1.low", 0.25)
    assert changed_settings(production, target) == ["kpis.targets.1.low"]
    fewer = changed(production, "kpis.targets", production["kpis"]["targets"][:2])
    assert changed_settings(production, fewer) == ["kpis.targets"]


def test_production_configuration_rebuilds_nothing(manifest, production):
    plan = plan_scenario("same", production, production, manifest)
    assert (plan.changed, plan.roots, plan.rebuilds) == ([], [], False)


def test_a_strata_weight_rebuilds_segments_but_not_cost_allocation(manifest, production):
    scenario = changed(production, "segments.strata.profitability.weights.contribution_margin", 0.9)
    plan = plan_scenario("cm_heavy", production, scenario, manifest)
    # the model that reads the weight, and the five that stamp the configuration's version
    assert plan.roots == [
        "clv_model_fits",
        "int_segment_customers",
        "int_segment_strata",
        "kpi_target_status",
        "segment_kpis",
        "segment_transitions",
    ]
    rebuilt = descendants(manifest, plan.roots)
    assert rebuilt == [
        "account_playbook",
        "clv_model_fits",
        "customer_segments",
        "int_clv_backtest",
        "int_segment_assignments",
        "int_segment_customers",
        "int_segment_maturity",
        "int_segment_strata",
        "kpi_target_status",
        "segment_kpis",
        "segment_transitions",
    ]
    assert not any(m.startswith(("stg_", "int_cost", "fct_")) for m in rebuilt)


def test_an_order_entry_channel_weight_rebuilds_cost_to_serve_and_everything_after(manifest, production):
    scenario = changed(production, "cost_to_serve.order_entry_channel_weights.PHONE", 3.0)
    plan = plan_scenario("phone_3x", production, scenario, manifest)
    assert "int_cost_driver_units" in plan.roots
    rebuilt = descendants(manifest, plan.roots)
    assert {
        "int_cost_allocation",
        "int_customer_profit_monthly",
        "fct_cost_to_serve_monthly",
        "margin_reconciliation",
        "customer_segments",
        "segment_kpis",
    } <= set(rebuilt)
    # what the channel weights do not reach: staging, currency, sales lines, the crosswalks
    assert not {"int_sales_lines", "int_fx_rates", "int_customers", "int_payments"} & set(rebuilt)
    assert not any(m.startswith("stg_") for m in rebuilt)


def test_build_args_defer_every_other_ref_to_production(manifest, production):
    scenario = changed(production, "segments.strata.topline.high_cut", 0.6)
    plan = plan_scenario("tight", production, scenario, manifest)
    args = build_args(plan, {"strata": scenario, "config_version": "x"}, "/state", "/target")
    assert args[:2] == ["build", "--select"]
    assert "int_segment_strata+" in args
    assert args[
        args.index("--defer") : args.index("--defer") + 4
    ] == ["--defer", "--favor-state", "--state", "/state"]
    dbt_vars = json.loads(args[args.index("--vars") + 1])
    assert dbt_vars["strata_schema_prefix"] == "scenario_tight_"
    assert scenario_schemas("tight") == [
        "scenario_tight_staging",
        "scenario_tight_intermediate",
        "scenario_tight_marts",
        "scenario_tight_main",
    ]


@pytest.mark.parametrize(
    "name", ["", "Phone", "1st", "a-b", "a b", "x;drop schema marts", "../published", "é", "a" * 41, None]
)
def test_bad_names_are_refused_before_they_reach_a_schema_or_a_path(name):
    with pytest.raises(ScenarioError, match="lower-case letters, digits and underscores"):
        check_name(name)


def test_good_names():
    assert check_name("phone_3x") == "phone_3x"
    assert check_name("a" * 40) == "a" * 40


def test_a_scenario_given_as_text_is_validated_like_a_file(tmp_path):
    from assets.core.settings import DEFAULT_CONFIG_FILE, ConfigError
    from assets.scenarios.run import load_scenario_config

    text = DEFAULT_CONFIG_FILE.read_text(encoding="utf-8").replace("late_payment_weight: 5", "late_payment_weight: -1")
    with pytest.raises(ConfigError, match="cost_to_serve.late_payment_weight: Input should be greater than"):
        load_scenario_config("negative", tmp_path, text=text)
    assert (tmp_path / "scenarios" / ".work" / "negative.yml").read_text(encoding="utf-8") == text
    with pytest.raises(ScenarioError, match="exactly once"):
        load_scenario_config("negative", tmp_path)
    with pytest.raises(ScenarioError, match="lower-case"):
        load_scenario_config("../x", tmp_path, text=text)


def test_months_are_month_ends():
    from datetime import date

    from assets.scenarios.run import month_end

    assert (month_end("2026-02"), month_end("2024-02"), month_end("2025-12")) == (
        date(2026, 2, 28), date(2024, 2, 29), date(2025, 12, 31))
    with pytest.raises(ScenarioError, match="not of the form YYYY-MM"):
        month_end("2026-13")

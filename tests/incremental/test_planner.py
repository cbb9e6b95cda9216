"""The planner's rules on hand-made states: every fall-back reason, the no-op, the reach of the
dirty months into segment and KPI months (docs/incremental.md)."""

import datetime as dt
import json

import duckdb
import pytest

from assets import build_planner as bp
from assets.core.build_plan import FULL, INCREMENTAL, NOOP, BuildPlan, latest_plan, write_plan

M = bp.month_end


def d(y: int, m: int) -> dt.date:
    return M(dt.date(y, m, 1))


BATCHES = {("erp", "sales_lines", "2025-01"): "a", ("erp", "customers", "2025-01"): "b"}
STATE = bp.BuildState(run_id="r0", config_version="cfg", code_version="code",
                      first_sales_month=d(2025, 1), batches=BATCHES)


def now(**change) -> bp.Current:
    values = {"config_version": "cfg", "code_version": "code", "first_sales_month": d(2025, 1),
              "batches": dict(BATCHES)} | change
    return bp.Current(**values)


def test_no_previous_build_is_full():
    assert bp.decide(None, now(), None) == (FULL, "no previous complete build is recorded")


def test_a_changed_configuration_is_full():
    mode, reason = bp.decide(STATE, now(config_version="cfg2"), None)
    assert mode == FULL and "configuration changed (version cfg -> cfg2)" in reason


def test_changed_model_code_is_full():
    mode, reason = bp.decide(STATE, now(code_version="code2"), None)
    assert mode == FULL and "dbt model code changed" in reason


def test_a_new_first_sales_month_is_full():
    mode, reason = bp.decide(STATE, now(first_sales_month=d(2024, 12)), None)
    assert mode == FULL and "first month of sales data changed (2025-01-31 -> 2024-12-31)" in reason


def test_an_unfinished_previous_build_is_full():
    unfinished = BuildPlan("r1", INCREMENTAL, "x", frozenset({d(2025, 1)}))
    mode, reason = bp.decide(STATE, now(), unfinished)
    assert mode == FULL and "run r1" in reason and "did not complete" in reason
    # a NOOP plan built nothing: it is no unfinished build
    assert bp.decide(STATE, now(), BuildPlan("r2", NOOP, "nothing changed")) == (NOOP, "nothing changed")


def test_nothing_changed_is_noop():
    assert bp.decide(STATE, now(), BuildPlan("r0", INCREMENTAL, "x")) == (NOOP, "nothing changed")


def test_a_redelivered_batch_goes_on_to_the_months():
    changed = dict(BATCHES) | {("erp", "sales_lines", "2025-01"): "a2", ("erp", "sales_lines", "2025-02"): "c"}
    assert bp.decide(STATE, now(batches=changed), None) == (INCREMENTAL, "")
    assert bp.changed_batches(changed, BATCHES) == {("erp", "sales_lines", "2025-01"),
                                                    ("erp", "sales_lines", "2025-02")}


def test_the_code_version_covers_models_and_macros(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "macros").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "models" / "a.sql").write_text("select 1")
    before = bp.code_version(tmp_path)
    (tmp_path / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}")
    assert bp.code_version(tmp_path) != before


W = bp.Windows(window_months=12, survey_lookback_months=24, first_segment_month_index=12)
SPINE = bp.month_range(d(2025, 12), d(2027, 6))  # sales from 2025-01: segments from the 12th month


def test_a_new_month_reaches_its_own_segment_month_and_kpis():
    segments, kpis = bp.reach(bp.Dirty(fact=frozenset({d(2027, 6)}), sales=frozenset({d(2027, 6)})), SPINE, W)
    assert segments == {d(2027, 6)}
    assert kpis == {d(2027, 6)}


def test_a_corrected_month_reaches_the_windows_that_hold_it_and_their_cohorts():
    # a correction of 2026-01 (no sales: e.g. a CRM activity) is in W(M) for M = 2026-01 .. 2026-12
    segments, kpis = bp.reach(bp.Dirty(fact=frozenset({d(2026, 1)})), SPINE, W)
    assert segments == set(bp.month_range(d(2026, 1), d(2026, 12)))
    # KPIs at M where M or M-12 was recomputed: 2026-01 .. 2026-12 and 2027-01 .. 2027-06
    assert kpis == set(bp.month_range(d(2026, 1), d(2027, 6)))


def test_changed_sales_reach_every_later_segment_month_for_the_predicted_value():
    # the fits at M read every purchase occasion up to M (methodology §13)
    segments, _ = bp.reach(bp.Dirty(fact=frozenset({d(2026, 1)}), sales=frozenset({d(2026, 1)})), SPINE, W)
    assert segments == set(bp.month_range(d(2026, 1), d(2027, 6)))


def test_a_survey_response_reaches_its_look_back():
    segments, _ = bp.reach(bp.Dirty(survey=frozenset({d(2025, 6)})), SPINE, W)
    assert segments == set(bp.month_range(d(2025, 12), d(2027, 5)))  # M-23 <= 2025-06 <= M


def test_a_dirty_set_covering_most_months_is_full():
    months = bp.month_range(d(2025, 1), d(2027, 6))
    dirty = bp.Dirty(fact=frozenset(months[:16]))
    plan = bp.plan_from_dirty("r", dirty, months, SPINE, W)
    assert plan.mode == FULL and "16 of 30 fact months" in plan.reason
    plan = bp.plan_from_dirty("r", bp.Dirty(fact=frozenset(months[:15])), months, SPINE, W)
    assert plan.mode == INCREMENTAL and plan.fact_months == frozenset(months[:15])


def test_the_segment_spine_starts_at_the_configured_month():
    assert bp.segment_spine(d(2025, 1), d(2026, 2), 12) == [d(2025, 12), d(2026, 1), d(2026, 2)]
    assert bp.segment_spine(None, None, 12) == []


@pytest.mark.parametrize(("m", "n", "expected"), [(d(2025, 1), -1, d(2024, 12)), (d(2024, 1), 1, d(2024, 2)),
                                                  (d(2024, 3), -12, d(2023, 3)), (d(2024, 11), 2, d(2025, 1))])
def test_add_months(m, n, expected):
    assert bp.add_months(m, n) == expected


def test_the_state_is_complete_once_every_dbt_asset_is_built():
    con = duckdb.connect()
    write_plan(con, BuildPlan("r1", FULL, "first"))
    bp.begin_build(con, "r1", now())
    assert bp.read_state(con) is None
    assert not bp.finish_step(con, "r1", {"a"}, {"a", "b"})
    assert bp.read_state(con) is None
    assert bp.finish_step(con, "r1", {"b"}, {"a", "b"})
    state = bp.read_state(con)
    assert (state.run_id, state.batches) == ("r1", BATCHES)
    assert latest_plan(con).run_id == "r1"


def test_a_staging_model_recomputes_the_months_of_its_own_entitys_changed_rows():
    """A sales line corrected into a later month: the sales lines' layer holds both months (the old
    version leaves one, the new one enters the other); the payment naming the invoice puts its month
    into the facts, not into the sales lines' layer; no other entity's staging moves."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA staging")
    cols = "document_type VARCHAR, document_no VARCHAR, line_no BIGINT, posting_date DATE, customer_no VARCHAR, " \
           "item_no VARCHAR, _batch VARCHAR"
    con.execute(f"CREATE TABLE raw.erp__sales_lines ({cols})")
    con.execute(f"CREATE TABLE staging.stg_erp__sales_lines ({cols})")
    con.execute("INSERT INTO raw.erp__sales_lines VALUES "
                "('INVOICE', 'D1', 1, '2025-02-10', 'C1', 'I1', '2025-02'), "  # the old version
                "('INVOICE', 'D2', 1, '2025-02-11', 'C1', 'I1', '2025-02'), "  # untouched
                "('INVOICE', 'D1', 1, '2025-04-03', 'C1', 'I1', '2025-04')")  # corrected into April
    con.execute("INSERT INTO staging.stg_erp__sales_lines VALUES "
                "('INVOICE', 'D1', 1, '2025-02-10', 'C1', 'I1', '2025-02'), "
                "('INVOICE', 'D2', 1, '2025-02-11', 'C1', 'I1', '2025-02')")
    con.execute("CREATE TABLE raw.erp__payments (payment_no VARCHAR, document_no VARCHAR, payment_date DATE, "
                "_batch VARCHAR)")
    con.execute("INSERT INTO raw.erp__payments VALUES ('P1', 'D1', '2025-05-20', '2025-05')")

    dirty = bp.dirty_months(con, {("erp", "sales_lines", "2025-04")})

    assert dirty.entities == {"erp__sales_lines": {d(2025, 2), d(2025, 4)}}
    assert dirty.sales == {d(2025, 2), d(2025, 4)}
    assert dirty.fact == {d(2025, 2), d(2025, 4), d(2025, 5)}
    months = bp.month_range(d(2025, 1), d(2026, 12))
    plan = bp.plan_from_dirty("r", dirty, months, SPINE, W)
    assert plan.months("erp__sales_lines") == {d(2025, 2), d(2025, 4)}
    assert plan.months("sales") == {d(2025, 2), d(2025, 4)}
    assert plan.months("erp__shipments") == frozenset()  # not in the plan: nothing to recompute


def test_the_narrower_layers_are_recorded_and_reach_dbt():
    from assets.core.dbt import plan_env

    con = duckdb.connect()
    plan = BuildPlan("r1", INCREMENTAL, "x", fact_months=frozenset({d(2025, 2), d(2025, 5)}),
                     model_months={"sales": frozenset({d(2025, 2)}), "erp__sales_lines": frozenset({d(2025, 2)})})
    write_plan(con, plan)
    assert latest_plan(con) == plan
    env = json.loads(plan_env(plan)["STRATA_BUILD_PLAN"])
    assert env == {"fact": ["2025-02-28", "2025-05-31"], "segment": [], "kpi": [],
                   "erp__sales_lines": ["2025-02-28"], "sales": ["2025-02-28"]}

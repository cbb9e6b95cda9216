"""The predicted-value fit follows the build plan (docs/incremental.md): a run whose own plan is
INCREMENTAL refits only the plan's segment months, when the fit tables hold the fit of the build
that plan was measured against; anything else refits every month.

A real DuckDB warehouse holding `intermediate.int_clv_inputs` (three months cut from CDNOW), the
build state and plans as the planner records them, and `fit_warehouse` as the asset calls it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from assets import build_planner
from assets.clv.asset import fit_warehouse
from assets.clv.predict import predict_all
from assets.core.build_plan import FULL, INCREMENTAL, BuildPlan, write_plan
from assets.core.resources import StrataPaths
from tests.clv.test_clv_models import cdnow_month, cdnow_summary

JAN, FEB, MAR = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)


def inputs(feb_shift: float = 0.0, mar_shift: float = 0.0) -> pd.DataFrame:
    """Three segment months of CDNOW customers; a shift moves every customer's age in a month."""
    cdnow = cdnow_summary().iloc[:900]
    months = [cdnow_month(str(JAN), cdnow), cdnow_month(str(FEB), cdnow.assign(T=cdnow["T"] + 4 + feb_shift)),
              cdnow_month(str(MAR), cdnow.assign(T=cdnow["T"] + 8 + mar_shift))]
    return pd.concat(months, ignore_index=True)


def write_inputs(warehouse: Path, frame: pd.DataFrame) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.register("frame", frame)
        con.execute("CREATE OR REPLACE TABLE intermediate.int_clv_inputs AS SELECT CAST(month AS DATE) AS month, "
                    "customer_no, x AS repeat_occasions, t_x AS recency_weeks, \"T\" AS age_weeks, "
                    "CAST(zbar AS DECIMAL(18, 2)) AS mean_repeat_value FROM frame")


def complete_build(warehouse: Path, run_id: str) -> None:
    """Record `run_id` as the last complete build, as the planner does once its dbt steps are done."""
    with duckdb.connect(str(warehouse)) as con:
        now = build_planner.Current(config_version="c", code_version="m", first_sales_month=JAN)
        build_planner.begin_build(con, run_id, now)
        assert build_planner.finish_step(con, run_id, {"dbt"}, {"dbt"})


def plan(warehouse: Path, run_id: str, mode: str, segment_months=frozenset()) -> None:
    with duckdb.connect(str(warehouse)) as con:
        write_plan(con, BuildPlan(run_id, mode, "test", segment_months=frozenset(segment_months)))


def fitted(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        predictions = con.execute("SELECT * FROM clv.customer_predictions ORDER BY month, customer_no").df()
        fits = con.execute("SELECT month, model, parameters, log_likelihood FROM clv.model_fits "
                           "ORDER BY month, model").df()
    return predictions, fits


@pytest.fixture
def warehouse(tmp_path) -> tuple[Path, StrataPaths]:
    paths = StrataPaths(landing_dir=str(tmp_path / "landing"), out_dir=str(tmp_path))
    path = Path(paths.warehouse)
    write_inputs(path, inputs())
    # run r1: a FULL build, its fit over every month, then its build completes
    plan(path, "r1", FULL)
    assert fit_warehouse(paths, "r1")[2] is None
    complete_build(path, "r1")
    return path, paths


def months_of(frame: pd.DataFrame, month: dt.date) -> pd.DataFrame:
    return frame[pd.to_datetime(frame["month"]).dt.date == month].reset_index(drop=True)


def test_an_incremental_run_refits_only_its_plans_months(warehouse):
    path, paths = warehouse
    before_predictions, before_fits = fitted(path)
    # February's and March's inputs change; the plan of run r2 names February only, so March keeps
    # its old fit: that is how the test sees that only the plan's months were refitted
    write_inputs(path, inputs(feb_shift=1.5, mar_shift=3.0))
    plan(path, "r2", INCREMENTAL, {FEB})

    assert fit_warehouse(paths, "r2")[2] == frozenset({FEB})

    after_predictions, after_fits = fitted(path)
    changed = inputs(feb_shift=1.5, mar_shift=3.0)
    fresh, fresh_fits = predict_all(changed[changed["month"] == str(FEB)], 12)
    feb = months_of(after_predictions, FEB)
    assert len(feb) == len(fresh) == 900
    assert feb["p_alive"].tolist() == pytest.approx(fresh["p_alive"].astype(float).tolist(), rel=1e-12)
    assert feb["predicted_net_revenue"].tolist() == pytest.approx(
        fresh["predicted_net_revenue"].astype(float).tolist(), rel=1e-12)
    assert months_of(after_fits, FEB)["parameters"].tolist() == fresh_fits["parameters"].tolist()
    assert not months_of(after_predictions, FEB).equals(months_of(before_predictions, FEB))
    for month in (JAN, MAR):  # outside the plan: the rows of r1's fit, untouched
        pd.testing.assert_frame_equal(months_of(after_predictions, month), months_of(before_predictions, month))
        pd.testing.assert_frame_equal(months_of(after_fits, month), months_of(before_fits, month))


def test_a_noop_plan_refits_nothing_and_keeps_the_tables_in_step(warehouse):
    path, paths = warehouse
    before = fitted(path)
    plan(path, "r2", "NOOP")
    assert fit_warehouse(paths, "r2")[2] == frozenset()
    after = fitted(path)
    pd.testing.assert_frame_equal(after[0], before[0])
    pd.testing.assert_frame_equal(after[1], before[1])
    # r2 completes; the next incremental run may narrow its fit again
    complete_build(path, "r2")
    plan(path, "r3", INCREMENTAL, {MAR})
    assert fit_warehouse(paths, "r3")[2] == frozenset({MAR})


@pytest.mark.parametrize("case", ["another run's plan", "a full plan", "a fit of another build"])
def test_every_month_is_refitted_when_the_plan_cannot_be_trusted(warehouse, case):
    path, paths = warehouse
    write_inputs(path, inputs(feb_shift=1.5, mar_shift=3.0))
    if case == "another run's plan":  # the asset run alone: the newest plan is not this run's
        plan(path, "r2", INCREMENTAL, {FEB})
        run = "r9"
    elif case == "a full plan":
        plan(path, "r2", FULL)
        run = "r2"
    else:  # the tables hold a fit made outside the last complete build (here: the asset run alone)
        plan(path, "r2", INCREMENTAL, {FEB})
        assert fit_warehouse(paths, "r8")[2] is None
        run = "r2"

    assert fit_warehouse(paths, run)[2] is None

    predictions, _ = fitted(path)
    fresh, _ = predict_all(inputs(feb_shift=1.5, mar_shift=3.0), 12)
    assert len(predictions) == len(fresh) == 2700
    assert predictions["p_alive"].tolist() == pytest.approx(fresh["p_alive"].astype(float).tolist(), rel=1e-12)

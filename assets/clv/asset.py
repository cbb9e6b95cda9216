"""The predicted-value fits as a Dagster asset between two parts of the dbt graph (methodology §13).

dbt builds `intermediate.int_clv_inputs`; this asset fits BG/NBD and Gamma-Gamma on every segment
month and writes `clv.customer_predictions` and `clv.model_fits` into the warehouse; dbt's sources
`clv.*` (their keys are this asset's keys) feed customer_segments, segment_kpis, account_playbook
and clv_model_fits. The dbt multi-asset is subsettable, so Dagster runs it in two steps of one run,
before and after this one (docs/predicted-value.md).

On the Spark target dbt reads the two tables as Parquet beside the raw-layer export
(`<out>/raw_parquet/clv__<table>/data.parquet`, registered by macros/engine.sql).
"""


import datetime as dt
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from assets import build_planner
from assets.clv.predict import FIT_COLUMNS, PREDICTION_COLUMNS, predict_all
from assets.core.build_plan import latest_plan
from assets.core.catalog import table_exists
from assets.core.engines import open_layers
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries
from assets.core.sql import sql_literal

INPUTS_KEY = dg.AssetKey(["intermediate", "int_clv_inputs"])
PREDICTIONS_KEY = dg.AssetKey(["clv", "customer_predictions"])
FITS_KEY = dg.AssetKey(["clv", "model_fits"])
SCHEMA = "clv"

INPUTS_SQL = """
SELECT month, customer_no, repeat_occasions AS x, recency_weeks AS t_x, age_weeks AS "T",
       CAST(mean_repeat_value AS DOUBLE) AS zbar
FROM intermediate.int_clv_inputs
{where}
ORDER BY month, customer_no
"""

# The tables dbt reads (sources clv.customer_predictions and clv.model_fits): explicit types, so
# an empty month or an empty run still gives the columns dbt expects.
PREDICTIONS_SELECT = """
SELECT CAST(month AS DATE) AS month, CAST(customer_no AS VARCHAR) AS customer_no,
       CAST(p_alive AS DOUBLE) AS p_alive, CAST(expected_orders AS DOUBLE) AS expected_orders,
       CAST(expected_order_value AS DOUBLE) AS expected_order_value,
       CAST(predicted_net_revenue AS DOUBLE) AS predicted_net_revenue
FROM predictions
"""
FITS_SELECT = """
SELECT CAST(month AS DATE) AS month, CAST(model AS VARCHAR) AS model, CAST(customers AS BIGINT) AS customers,
       CAST(parameters AS VARCHAR) AS parameters, CAST(log_likelihood AS DOUBLE) AS log_likelihood,
       CAST(converged AS BOOLEAN) AS converged, CAST(message AS VARCHAR) AS message
FROM fits
"""
# The run whose build the two tables fit (one row), written with them: a later run refits only its
# plan's months when the tables fit the build that plan was measured against.
FITTED_TABLE = "fitted_build"
FITTED_BUILD = f"{SCHEMA}.{FITTED_TABLE}"


def write_fits(con: duckdb.DuckDBPyConnection, predictions: pd.DataFrame, fits: pd.DataFrame,
               run_id: str | None = None, months: frozenset[dt.date] | None = None) -> None:
    """Replace both tables, or only `months` of them, in one transaction: dbt never reads
    predictions of one fit beside the model rows of another."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.register("predictions", predictions)
    con.register("fits", fits)
    con.execute("BEGIN TRANSACTION")
    try:
        for table, select in (("customer_predictions", PREDICTIONS_SELECT), ("model_fits", FITS_SELECT)):
            if months is None:
                con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{table} AS {select}")
            elif months:
                con.execute(f"DELETE FROM {SCHEMA}.{table} WHERE list_contains(?, month)", [sorted(months)])
                con.execute(f"INSERT INTO {SCHEMA}.{table} BY NAME {select}")
        con.execute(f"CREATE OR REPLACE TABLE {FITTED_BUILD} AS SELECT CAST(? AS VARCHAR) AS run_id",
                    [run_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("predictions")
        con.unregister("fits")


def months_to_fit(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[frozenset[dt.date] | None, str]:
    """The segment months this run refits (docs/incremental.md), None for every month; and why.

    Only this run's own INCREMENTAL or NOOP plan narrows the fit, and only when the two tables fit
    the build that plan was measured against (the last complete one). A fit made outside such a
    build (the asset run alone, a build that never completed) leaves the next run a full refit.
    """
    plan = latest_plan(con)
    if plan is None or plan.run_id != run_id:
        return None, "every segment month: no build plan of this run"
    if plan.is_full:
        return None, "every segment month: the build plan is FULL"
    state = build_planner.read_state(con)
    fitted = table_exists(con, SCHEMA, FITTED_TABLE)
    fitted_run = con.execute(f"SELECT run_id FROM {FITTED_BUILD}").fetchone()[0] if fitted else None
    if state is None or fitted_run != state.run_id:
        return None, (f"every segment month: the fit tables hold the fit of run {fitted_run}, not of "
                      f"the last complete build ({state.run_id if state else 'none'})")
    return plan.segment_months, f"the build plan's {len(plan.segment_months)} segment month(s)"


def export_parquet(con: duckdb.DuckDBPyConnection, raw_parquet: Path) -> None:
    """The Spark target's copy of both tables: <raw_parquet>/clv__<table>/data.parquet."""
    for table in ("customer_predictions", "model_fits"):
        folder = raw_parquet / f"{SCHEMA}__{table}"
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY {SCHEMA}.{table} TO {sql_literal(folder / 'data.parquet')} (FORMAT parquet)")


def ensure_parquet(raw_parquet: Path) -> None:
    """Empty, typed Parquet copies where no fit has written any yet, so that the Spark target's
    sources `clv.*` resolve in the dbt step that runs before the first fit (macros/engine.sql)."""
    tables = ("customer_predictions", "model_fits")
    if all((raw_parquet / f"{SCHEMA}__{t}" / "data.parquet").exists() for t in tables):
        return
    with duckdb.connect() as con:
        write_fits(con, pd.DataFrame(columns=PREDICTION_COLUMNS), pd.DataFrame(columns=FIT_COLUMNS))
        export_parquet(con, raw_parquet)


def fit_warehouse(paths: StrataPaths, run_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                         frozenset[dt.date] | None, str]:
    """Read the inputs, fit every segment month (or the months this run's plan recomputes), write
    both tables (and on Spark their Parquet); the months fitted (None: all) and why those."""
    settings = paths.settings()
    months, scope = None, "every segment month"
    if run_id is not None and paths.target == "duckdb":
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            months, scope = months_to_fit(con, run_id)
    with open_layers(paths.warehouse, paths.out, paths.target) as con:
        if months is None:
            inputs = con.execute(INPUTS_SQL.format(where="")).df()
        elif not months:  # a NOOP plan: nothing to refit
            inputs = con.execute(INPUTS_SQL.format(where="WHERE false")).df()
        else:
            inputs = con.execute(INPUTS_SQL.format(where="WHERE list_contains(?, month)"),
                                 [sorted(months)]).df()
    predictions, fits = predict_all(inputs, settings.predicted_value.horizon_months)
    with duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config()) as con:
        write_fits(con, predictions, fits, run_id, months)
        if paths.target == "spark":
            export_parquet(con, paths.raw_parquet)
    return predictions, fits, months, scope


@dg.multi_asset(
    name="clv_fits",
    specs=[
        dg.AssetSpec(
            PREDICTIONS_KEY, deps=[INPUTS_KEY], group_name="segments", kinds={"python", "duckdb"},
            owners=["team:data-engineering"], tags={"layer": SCHEMA},
            description="BG/NBD and Gamma-Gamma predictions per segment month and customer with an "
            "occasion up to M: p_alive, expected orders and order value over the horizon, predicted "
            "net revenue (methodology §13). Empty columns for a month whose fit failed.",
        ),
        dg.AssetSpec(
            FITS_KEY, deps=[INPUTS_KEY], group_name="segments", kinds={"python", "duckdb"},
            owners=["team:data-engineering"], tags={"layer": SCHEMA},
            description="One row per segment month and model (BG_NBD, GAMMA_GAMMA): parameters, "
            "log-likelihood, customers, converged and why not.",
        ),
    ],
    pool=WAREHOUSE_WRITER_POOL,
)
@transient_retries
def clv_fits(context: dg.AssetExecutionContext, paths: StrataPaths):
    started = time.monotonic()
    predictions, fits, _, scope = fit_warehouse(paths, context.run.run_id)
    failed = fits[~fits["converged"]]
    for row in failed.itertuples():
        context.log.warning(f"{row.month} {row.model}: {row.message}")
    seconds = round(time.monotonic() - started, 2)
    context.log.info(f"fitted {fits['month'].nunique()} segment months ({scope}), {len(predictions)} "
                     f"customer rows in {seconds} s; {len(failed)} model fit(s) left empty")
    yield dg.MaterializeResult(asset_key=PREDICTIONS_KEY, metadata={
        "rows": len(predictions), "months": int(fits["month"].nunique()), "seconds": seconds})
    yield dg.MaterializeResult(asset_key=FITS_KEY, metadata={
        "rows": len(fits), "not_converged": len(failed),
        "messages": dg.MetadataValue.json(
            [f"{r.month} {r.model}: {r.message}" for r in failed.itertuples()][:50]),
    })

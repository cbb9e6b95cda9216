"""Per segment month: fit BG/NBD and Gamma-Gamma on that month's inputs and predict per customer
(methodology §13).

The inputs are `intermediate.int_clv_inputs` (one row per month M and customer with an occasion up
to M: x, t_x, T in weeks, z̄). Each month is fitted on its own rows only, so a month's numbers never
depend on a later month (no leakage), and re-running a month gives the same numbers.

A month whose fit cannot be trusted gets no numbers, never made-up ones: fewer than
MIN_REPEAT_CUSTOMERS customers with x ≥ 1, or a BG/NBD fit that does not converge, leave every
prediction of the month empty; a Gamma-Gamma fit that cannot be made (too few repeat buyers with
a positive z̄, no convergence, q ≤ 1) leaves the value columns empty and keeps p_alive and the
expected orders. `model_fits` says which and why, per month and model.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from assets.clv import models

MIN_REPEAT_CUSTOMERS = 2  # methodology §13: fewer customers with x ≥ 1 and the month is not fitted
WEEKS_PER_MONTH = 52 / 12

PREDICTION_COLUMNS = ["month", "customer_no", "p_alive", "expected_orders", "expected_order_value",
                      "predicted_net_revenue"]
FIT_COLUMNS = ["month", "model", "customers", "parameters", "log_likelihood", "converged", "message"]


def horizon_weeks(horizon_months: int) -> float:
    """The prediction horizon t in weeks: months × 52 / 12 (12 months = 52 weeks)."""
    return horizon_months * WEEKS_PER_MONTH


def _fit_row(month, model: str, customers: int, fit: models.Fit | None, message: str) -> dict:
    return {
        "month": month, "model": model, "customers": customers,
        "parameters": json.dumps(fit.parameters, sort_keys=True) if fit and fit.converged else None,
        "log_likelihood": fit.log_likelihood if fit and fit.converged else None,
        "converged": bool(fit and fit.converged), "message": message,
    }


def predict_month(month, inputs: pd.DataFrame, horizon_months: int) -> tuple[pd.DataFrame, list[dict]]:
    """Predictions for every customer of one month's inputs, and the month's two fit rows."""
    x = inputs["x"].to_numpy(dtype=float)
    t_x = inputs["t_x"].to_numpy(dtype=float)
    T = inputs["T"].to_numpy(dtype=float)
    zbar = inputs["zbar"].astype(float).fillna(0).to_numpy()
    out = pd.DataFrame({"month": month, "customer_no": inputs["customer_no"].to_numpy()})
    for col in PREDICTION_COLUMNS[2:]:
        out[col] = np.nan

    repeaters = int((x >= 1).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        why = (f"not fitted: {repeaters} customer(s) with a repeat occasion (x >= 1) up to this month, "
               f"at least {MIN_REPEAT_CUSTOMERS} needed; predictions left empty")
        return out, [_fit_row(month, "BG_NBD", len(x), None, why),
                     _fit_row(month, "GAMMA_GAMMA", repeaters, None, why)]

    bg = models.fit_bgnbd(x, t_x, T)
    if not bg.converged:
        why = f"BG/NBD {bg.message}; predictions left empty"
        return out, [_fit_row(month, "BG_NBD", len(x), bg, why),
                     _fit_row(month, "GAMMA_GAMMA", repeaters, None, "not fitted: the BG/NBD fit failed")]
    bg_params = tuple(bg.parameters[k] for k in ("r", "alpha", "a", "b"))
    alive = models.p_alive(bg_params, x, t_x, T)
    orders = models.expected_occasions(bg_params, horizon_weeks(horizon_months), x, t_x, T)
    if not (np.all(np.isfinite(alive)) and np.all(np.isfinite(orders))):
        why = "BG/NBD converged but its predictions are not finite (a near 1?); predictions left empty"
        return out, [_fit_row(month, "BG_NBD", len(x), bg, why),
                     _fit_row(month, "GAMMA_GAMMA", repeaters, None,
                              "not fitted: the BG/NBD predictions failed")]
    out["p_alive"], out["expected_orders"] = alive, orders
    fits = [_fit_row(month, "BG_NBD", len(x), bg, "converged")]

    valued = (x >= 1) & (zbar > 0)
    n_valued = int(valued.sum())
    if n_valued < MIN_REPEAT_CUSTOMERS:
        fits.append(_fit_row(month, "GAMMA_GAMMA", n_valued, None,
                             f"not fitted: {n_valued} customer(s) with x >= 1 and a positive mean repeat "
                             f"value, at least {MIN_REPEAT_CUSTOMERS} needed; order values left empty"))
        return out, fits
    gg = models.fit_gamma_gamma(x[valued], zbar[valued])
    if not gg.converged:
        fits.append(_fit_row(month, "GAMMA_GAMMA", len(x[valued]), gg,
                             f"Gamma-Gamma {gg.message}; order values left empty"))
        return out, fits
    if gg.parameters["q"] <= 1:
        fits.append(_fit_row(month, "GAMMA_GAMMA", len(x[valued]), gg,
                             f"Gamma-Gamma q = {gg.parameters['q']:.4g} <= 1: the mean order value is "
                             "infinite; order values left empty"))
        return out, fits
    value = models.expected_order_value(tuple(gg.parameters[k] for k in ("p", "q", "gamma")), x, zbar)
    out["expected_order_value"] = value
    out["predicted_net_revenue"] = orders * value
    fits.append(_fit_row(month, "GAMMA_GAMMA", len(x[valued]), gg, "converged"))
    return out, fits


def predict_all(inputs: pd.DataFrame, horizon_months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every month of `inputs` fitted on its own; (customer predictions, model fits).

    BLAS runs on one thread meanwhile: the optimiser's matrices are 4×4, and a thread pool waking
    up for each of thousands of tiny operations cost ten times the fits on a loaded machine.
    """
    predictions, fits = [pd.DataFrame(columns=PREDICTION_COLUMNS)], []
    with threadpool_limits(limits=1, user_api="blas"):
        for month, rows in inputs.sort_values(["month", "customer_no"]).groupby("month", sort=True):
            month_predictions, month_fits = predict_month(month, rows, horizon_months)
            predictions.append(month_predictions)
            fits.extend(month_fits)
    frame = pd.concat([p for p in predictions if len(p)], ignore_index=True) if len(predictions) > 1 \
        else predictions[0]
    return frame[PREDICTION_COLUMNS], pd.DataFrame(fits, columns=FIT_COLUMNS)

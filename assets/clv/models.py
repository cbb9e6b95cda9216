"""BG/NBD and Gamma-Gamma: the papers' closed-form log-likelihoods, their maximum-likelihood fits
and the per-customer predictions (methodology §13).

- BG/NBD: Fader, Hardie and Lee, "Counting Your Customers the Easy Way", Marketing Science 24(2),
  2005: the likelihood (their eq. 6), P(alive) and E[Y(t) | x, t_x, T] (eq. 10).
- Gamma-Gamma: Fader and Hardie, "The Gamma-Gamma Model of Monetary Value" (2013): the density of
  a customer's mean repeat value z̄ given x, and the conditional expectation of an order's value.

The fits are SciPy's L-BFGS-B over the logarithms of the parameters (so they stay positive), from
a fixed start: deterministic, same input gives the same numbers. Everything is computed in logs,
so customers with many occasions or long histories neither overflow nor underflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, special

# Where the optimiser starts (every parameter 1, log 0) and how hard it works. The tolerances are
# far below what the published four significant digits need.
MAX_ITERATIONS = 2000
GRADIENT_TOLERANCE = 1e-9
# The optimiser searches ln(parameter) in [-LOG_BOUND, LOG_BOUND] (1e-9 … 1e9), only so that a
# likelihood without a maximum cannot overflow; an estimate at that bound is not a fit.
LOG_BOUND = 9 * math.log(10)
# A maximum is accepted only where the likelihood curves around it in every direction: the
# standard error of each ln(parameter) (from the inverse Hessian of −ln L) at most this. On the
# CDNOW sample they are 0.03-0.2; a likelihood that keeps rising towards zero or infinity (too few
# or too uniform customers) has a flat direction and an error of hundreds or more.
MAX_LOG_STANDARD_ERROR = 5.0
HESSIAN_STEP = 1e-4


@dataclass(frozen=True)
class Fit:
    """One maximum-likelihood fit: parameters by name, the log-likelihood at them, and whether the
    optimiser converged to a proper maximum (`message` says why not)."""

    parameters: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    message: str


def _log_standard_errors(neg_ll_and_grad, at: np.ndarray) -> np.ndarray:
    """Standard errors of the ln(parameters): √diag(H⁻¹), H the Hessian of −ln L by central
    differences of the analytic gradient; infinite where H is not positive definite (no maximum in
    that direction)."""
    n, h = len(at), HESSIAN_STEP
    hess = np.empty((n, n))
    for i in range(n):
        step = np.zeros(n)
        step[i] = h
        hess[:, i] = (neg_ll_and_grad(at + step)[1] - neg_ll_and_grad(at - step)[1]) / (2 * h)
    hess = (hess + hess.T) / 2
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return np.full(n, np.inf)
    return np.sqrt(np.diag(np.linalg.inv(hess)))


def _maximise(log_likelihood_and_grad, names: tuple[str, ...], customers: int) -> Fit:
    """Maximise ln L over ln(parameters). `log_likelihood_and_grad(params)` gives ln L and its
    gradient in the parameters; the chain rule turns it into the gradient in their logarithms."""

    def neg_ll_and_grad(log_params):
        params = np.exp(log_params)
        value, grad = log_likelihood_and_grad(params)
        if not math.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(log_params)
        return -value, -grad * params

    result = optimize.minimize(
        neg_ll_and_grad, np.zeros(len(names)), jac=True, method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(names),
        options={"maxiter": MAX_ITERATIONS, "gtol": GRADIENT_TOLERANCE, "ftol": 1e-15},
    )
    params = {n: float(math.exp(v)) for n, v in zip(names, result.x, strict=True)}
    ll = -float(result.fun)
    # L-BFGS-B may end its line search "abnormally" within rounding of the optimum; the curvature
    # test below decides whether the point is a proper maximum either way.
    gradient_small = bool(np.max(np.abs(result.jac)) <= 1e-3 * max(1.0, abs(ll)) ** 0.5)
    if not (result.success or gradient_small) or not math.isfinite(ll):
        return Fit(params, ll, customers, False, f"did not converge: {result.message}")
    errors = _log_standard_errors(neg_ll_and_grad, np.asarray(result.x, dtype=float))
    loose = [n for n, e in zip(names, errors, strict=True) if not e <= MAX_LOG_STANDARD_ERROR]
    if loose or np.any(np.abs(result.x) >= LOG_BOUND - 1e-6):
        return Fit(params, ll, customers, False,
                   "did not converge: the likelihood has no maximum in "
                   f"{', '.join(loose) or 'a parameter at its bound'} (it keeps rising towards zero or "
                   "infinity: too few, or too alike, customers to estimate it)")
    return Fit(params, ll, customers, True, "converged")


# --------------------------------------------------------------------------------------------------
# BG/NBD


def _log_b_x_1(b, x):
    """ln(b + x − 1), only used where x ≥ 1 (b + x − 1 > 0); floored so x = 0 rows stay finite."""
    return np.log(np.maximum(b + x - 1, 1e-300))


def _bgnbd_terms(params, x, t_x, T):
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - _log_b_x_1(b, x) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1, a2, a3, a4


def bgnbd_log_likelihood(params, x, t_x, T, weights=None) -> float:
    """Σ ln L(r, α, a, b | x, t_x, T), the paper's eq. 6 in logs; `weights` counts identical rows.

    ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
           + ln[ (α+T)^−(r+x) + [x>0] · a/(b+x−1) · (α+t_x)^−(r+x) ]
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    a1, a2, a3, a4 = _bgnbd_terms(params, x, t_x, T)
    return float(np.sum(w * (a1 + a2 + np.logaddexp(a3, a4))))


def bgnbd_log_likelihood_and_gradient(params, x, t_x, T, weights) -> tuple[float, np.ndarray]:
    """The log-likelihood and its gradient in (r, α, a, b); with ψ the digamma function and
    w3, w4 the shares of the two terms inside the last logarithm (they sum to 1):
      ∂r = ψ(r+x) − ψ(r) + ln α − w3 ln(α+T) − w4 ln(α+t_x)
      ∂α = r/α − (r+x) (w3/(α+T) + w4/(α+t_x))
      ∂a = ψ(a+b) − ψ(a+b+x) + w4/a
      ∂b = ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) − w4/(b+x−1)
    """
    r, alpha, a, b = params
    a1, a2, a3, a4 = _bgnbd_terms(params, x, t_x, T)
    last = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - last), np.exp(a4 - last)
    psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + x)
    with np.errstate(divide="ignore", invalid="ignore"):
        w4_over_b = np.where(x > 0, w4 / np.maximum(b + x - 1, 1e-300), 0.0)
    grad = np.array([
        np.sum(weights * (special.digamma(r + x) - special.digamma(r) + np.log(alpha)
                          - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x))),
        np.sum(weights * (r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x)))),
        np.sum(weights * (psi_ab - psi_abx + w4 / a)),
        np.sum(weights * (special.digamma(b + x) - special.digamma(b) + psi_ab - psi_abx - w4_over_b)),
    ])
    return float(np.sum(weights * (a1 + a2 + last))), grad


def fit_bgnbd(x, t_x, T) -> Fit:
    """r, α, a, b by maximum likelihood over every customer (x, t_x, T in weeks)."""
    rows = np.column_stack([np.asarray(v, dtype=float) for v in (x, t_x, T)])
    unique, counts = np.unique(rows, axis=0, return_counts=True)  # identical customers counted once
    ux, ut_x, uT, weights = unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(float)
    return _maximise(lambda params: bgnbd_log_likelihood_and_gradient(params, ux, ut_x, uT, weights),
                     ("r", "alpha", "a", "b"), len(rows))


def _log_alive_odds(params, x, t_x, T):
    """ln of [x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x); −∞ for x = 0."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            x > 0,
            np.log(a) - _log_b_x_1(b, x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
            -np.inf,
        )


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return special.expit(-_log_alive_odds(params, x, t_x, T))


def expected_occasions(params, t: float, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: occasions expected in the next t weeks (the paper's eq. 10).

    E = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)] · P(alive),
    z = t/(α+T+t). The hypergeometric term is taken through Euler's transformation,
    (1−z)^(r+x) · 2F1(r+x, b+x; c; z) = (1−z)^(a−1) · 2F1(a+b−1−r, a−1; c; z), c = a+b+x−1, whose
    numerator parameters do not grow with x: the series stays small and converges fast for
    customers with many occasions, where the direct form overflows.
    """
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    c = a + b + x - 1
    hyp = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
    bracket = 1 - np.exp((a - 1) * np.log1p(-z)) * hyp
    return (c / (a - 1)) * bracket * p_alive(params, x, t_x, T)


# --------------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_log_likelihood(params, x, zbar) -> float:
    """Σ ln f(z̄ | p, q, γ; x) over customers with x ≥ 1 and z̄ > 0:

    ln f = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln z̄ + px ln x − (px+q) ln(γ + x z̄)
    """
    p, q, gamma = params
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    px = p * x
    return float(np.sum(
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(gamma)
        + (px - 1) * np.log(zbar) + px * np.log(x) - (px + q) * np.log(gamma + x * zbar)
    ))


def gamma_gamma_log_likelihood_and_gradient(params, x, zbar) -> tuple[float, np.ndarray]:
    """The log-likelihood and its gradient in (p, q, γ):
      ∂p = Σ x (ψ(px+q) − ψ(px) + ln z̄ + ln x − ln(γ + x z̄))
      ∂q = Σ ψ(px+q) − ψ(q) + ln γ − ln(γ + x z̄)
      ∂γ = Σ q/γ − (px+q)/(γ + x z̄)
    """
    p, q, gamma = params
    px, log_g_xz = p * x, np.log(gamma + x * zbar)
    psi_pxq = special.digamma(px + q)
    grad = np.array([
        np.sum(x * (psi_pxq - special.digamma(px) + np.log(zbar) + np.log(x) - log_g_xz)),
        np.sum(psi_pxq - special.digamma(q) + np.log(gamma) - log_g_xz),
        np.sum(q / gamma - (px + q) / (gamma + x * zbar)),
    ])
    return gamma_gamma_log_likelihood(params, x, zbar), grad


def fit_gamma_gamma(x, zbar) -> Fit:
    """p, q, γ by maximum likelihood over the customers given (callers pass x ≥ 1 and z̄ > 0).

    The values are fitted in units of their mean: order values of thousands put γ near 10^4, far
    from the optimiser's start at 1. The model is scale-free: with z̄ / s, p and q are the same, γ
    is γ / s and every customer's log-density grows by ln s; the fit is reported in the original
    units.
    """
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    scale = float(np.mean(zbar)) if len(zbar) else 1.0
    scaled = zbar / scale
    fit = _maximise(lambda params: gamma_gamma_log_likelihood_and_gradient(params, x, scaled),
                    ("p", "q", "gamma"), len(x))
    return replace(fit, parameters={**fit.parameters, "gamma": fit.parameters["gamma"] * scale},
                   log_likelihood=fit.log_likelihood - len(x) * math.log(scale))


def expected_order_value(params, x, zbar) -> np.ndarray:
    """E[Z | p, q, γ, x, z̄] = p (γ + x z̄) / (p x + q − 1) for x ≥ 1 and z̄ > 0; otherwise the
    population mean p γ / (q − 1). Needs q > 1 (else the mean value is infinite)."""
    p, q, gamma = params
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    repeat = (x >= 1) & (zbar > 0)
    conditional = p * (gamma + x * np.where(repeat, zbar, 0)) / (p * x + q - 1)
    return np.where(repeat, conditional, p * gamma / (q - 1))

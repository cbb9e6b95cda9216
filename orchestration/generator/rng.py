"""Seeded random streams: one independent numpy Generator per (seed, purpose, month).

Every random draw of the generator comes from here. A stream is named by what it is for, so that
adding draws to one entity never shifts another entity's data, and a month's data does not depend on
how many numbers earlier months used. Names are hashed with CRC-32 (stable across processes),
never with Python's salted `hash()`.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, month: int = -1) -> np.random.Generator:
    """The random stream for `name` (e.g. "sales") in month index `month` (-1: not month-bound)."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    words = [seed & 0xFFFFFFFF, seed >> 32, zlib.crc32(name.encode("utf-8")), month + 1]
    return np.random.default_rng(np.random.SeedSequence(words))


def categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One draw per row of `cum` (rows of cumulative probabilities ending at 1): the chosen column."""
    u = rng.random(cum.shape[0])
    out = (u[:, None] >= cum[:, :-1]).sum(axis=1)
    return out.astype(np.int8)


def cumulative(probs) -> np.ndarray:
    """Rows of probabilities (any positive weights) as rows of cumulative probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    c = np.cumsum(p, axis=-1)
    c[..., -1] = 1.0
    return c


def pick(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    """`n` draws from one distribution over its indices."""
    cum = cumulative(probs)
    return np.searchsorted(cum, rng.random(n), side="right").clip(0, len(cum) - 1).astype(np.int8)


def quota(
    rng: np.random.Generator, candidates: np.ndarray, share: float, minimum: int = 1, weights=None
) -> np.ndarray:
    """A random subset of `candidates` of size round(share × len) but at least `minimum` (when there are
    that many): traits the tests rely on exist even in a small population. `weights` make some
    candidates likelier than others."""
    candidates = np.asarray(candidates)
    k = int(round(share * len(candidates)))
    k = min(len(candidates), max(k, minimum))
    if k == 0:
        return candidates[:0]
    p = None
    if weights is not None:
        p = np.asarray(weights, dtype=np.float64)
        p = p / p.sum()
    return np.sort(rng.choice(candidates, size=k, replace=False, p=p))

"""One small generated landing folder per test session (40 customers × 14 months), shared by the
generator tests; a second copy in Parquet for the format test."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from generator_checks import ARGS, load

from orchestration.generator import generate


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """(landing root, GenerationSummary) of the session's CSV generation."""
    root = tmp_path_factory.mktemp("generated") / "landing"
    return root, generate(root, **ARGS)


@pytest.fixture(scope="session")
def landing(generated) -> Path:
    return generated[0]


@pytest.fixture(scope="session")
def summary(generated):
    return generated[1]


@pytest.fixture(scope="session")
def rows(landing) -> dict:
    """Every generated row, typed, by (system, entity); `_batch` names its batch."""
    return load(landing)


@pytest.fixture(scope="session")
def personas(landing) -> dict[str, str]:
    with open(landing / "_personas.csv", encoding="utf-8", newline="") as fh:
        return {r["customer_no"]: r["persona"] for r in csv.DictReader(fh)}


@pytest.fixture(scope="session")
def newest(rows, summary):
    """The newest snapshot of each snapshot entity."""
    last = summary.months[-1]
    return {k: [r for r in v if r["_batch"] == last] for k, v in rows.items()}


@pytest.fixture(scope="session")
def rates(rows) -> dict[tuple[str, str], object]:
    """(batch, currency) -> rate_to_lcy; LCY (USD) converts at 1."""
    out = {(r["_batch"], r["currency"]): r["rate_to_lcy"] for r in rows[("erp", "fx_rates")]}
    for batch in {r["_batch"] for r in rows[("erp", "fx_rates")]}:
        out[(batch, "USD")] = 1
    return out

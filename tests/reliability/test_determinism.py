"""Determinism: the same landing folder and configuration give the same published rows on every
run, whatever order the batches arrived in.

The clean run loaded every month at once. Here the same landing folder is loaded into a fresh
output folder in two runs, the newest half of the months first and the oldest half last (late
deliveries, out of order), with `materialize(..., months=[...])`; the published tables must equal
the clean run's, row for row, in a defined order.
"""

from __future__ import annotations

import pytest

from orchestration.runner import materialize
from tests.reliability.harness import assert_same_rows, copy_tree, make_writable, published_rows

pytestmark = pytest.mark.slow


def test_months_loaded_in_reverse_order_give_the_clean_run_rows(clean, tmp_path):
    landing = copy_tree(clean.landing, tmp_path / "landing")
    out = tmp_path / "out"
    months = sorted({p.name for p in landing.glob("*/*/*") if p.is_dir()})
    half = len(months) // 2
    try:
        newest = materialize(landing, out, months=months[half:])
        assert newest.months == months[half:]
        oldest = materialize(landing, out, months=months[:half])
        assert oldest.success, "\n".join(oldest.failures)
        assert oldest.months == months[:half]
        assert_same_rows(published_rows(out), clean.rows)
    finally:
        make_writable(tmp_path)

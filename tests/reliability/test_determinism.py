"""Determinism: the same landing folder and configuration give the same published rows on every
run, whatever order the batches arrived in.

The clean run (`sample_run`) loaded every month at once. The session's `out_of_order` chain
(tests/support/out_of_order.py) loads the same landing folder into a fresh output folder in runs:
every month but one in the middle first, then the skipped month, late and out of order (older than
months already built); the published tables must equal the clean run's, row for row, in a defined
order.
The same chain's first run is the `--months` test of tests/orchestration/test_cli.py.
"""

from __future__ import annotations

import pytest

from tests.reliability.harness import assert_same_rows, published_rows

pytestmark = pytest.mark.slow


def test_months_loaded_out_of_order_give_the_clean_run_rows(out_of_order, clean):
    chain = out_of_order
    assert chain.cli_returncode == 0, chain.cli_stdout + chain.cli_stderr
    assert chain.cli_loaded == chain.cli_months
    assert chain.late_success, "\n".join(chain.late_failures)
    assert chain.late_run_months == chain.late_months
    assert chain.late_months[-1] == chain.gap and chain.gap > chain.cli_months[0]  # older data arrived last
    assert_same_rows(published_rows(chain.out), clean.rows)

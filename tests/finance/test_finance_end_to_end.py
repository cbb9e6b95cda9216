"""The same hand-computed fixture through the whole Dagster run (`orchestration.runner.materialize`):
the landing folder written by `write_batch` is ingested, dbt builds every model and test, and the
three finance marts hold exactly the numbers of test_finance_marts.py."""

from __future__ import annotations

import pytest

from tests.finance.fixture import BATCHES
from tests.finance.test_finance_marts import (
    assert_cost_to_serve_mart,
    assert_profit_mart,
    assert_reconciliation,
)
from tests.support.warehouse import write_landing


@pytest.mark.slow
def test_landing_folder_through_dagster_gives_the_hand_computed_marts(tmp_path):
    from orchestration.runner import materialize

    landing = write_landing(tmp_path / "landing", BATCHES)
    report = materialize(landing, tmp_path / "out")
    assert report.success, "\n".join(report.failures)
    assert_profit_mart(report.warehouse)
    assert_cost_to_serve_mart(report.warehouse)
    assert_reconciliation(report.warehouse)

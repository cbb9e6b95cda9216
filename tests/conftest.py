"""Session-wide test setup: the dbt manifest is built once, as `strata prepare` would."""

from __future__ import annotations

import os

os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


def pytest_sessionstart(session) -> None:
    # Dagster definitions load the dbt manifest at import; build it before any test imports them.
    from pathlib import Path

    if (Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml").exists():
        from orchestration.runner import prepare_dbt

        prepare_dbt()


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """A small generated landing folder (40 customers, 26 months) materialised once per session.

    26 months: segments start at the 12th, so the newest months have cohorts at M−12 too.

    Tests that need a whole real run share it; they must not change its folders (copy them first).
    """
    from orchestration.generator import generate
    from orchestration.runner import materialize

    root = tmp_path_factory.mktemp("sample")
    summary = generate(root / "landing", customers=40, months=26, end_month="2026-10", seed=11)
    report = materialize(root / "landing", root / "out")
    assert report.success, "the sample run failed:\n" + "\n".join(report.failures)
    return summary, report

"""Session-wide test setup: the dbt manifest is built once, as `strata prepare` would."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("DAGSTER_TELEMETRY_DISABLED", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


def pytest_sessionstart(session) -> None:
    # Dagster definitions load the dbt manifest at import; build it before any test imports them.
    # Under xdist the controller has built it before it started the workers.
    if "PYTEST_XDIST_WORKER" not in os.environ and (Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml").exists():
        from orchestration.runner import prepare_dbt

        prepare_dbt()


import pytest  # noqa: E402

from tests.support.shared import once_per_run  # noqa: E402


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory):
    """The GenerationSummary of a small generated landing folder (40 customers, 26 months; its
    `landing_root`), written once per test run (once for all xdist workers: tests/support/shared.py).

    26 months: segments start at the 12th, so the newest months have cohorts at M−12 too.
    """
    from orchestration.generator import generate

    return once_per_run(
        tmp_path_factory, "sample_landing",
        lambda root: generate(root / "landing", customers=40, months=26, end_month="2026-10", seed=11),
    )


@pytest.fixture(scope="session")
def sample_run(sample_landing, tmp_path_factory):
    """(GenerationSummary, RunReport): `sample_landing` materialised once per test run.

    Tests that need a whole real run share it; they must not change its folders (copy them first).
    """
    from orchestration.runner import materialize

    def run(root):
        report = materialize(sample_landing.landing_root, root / "out")
        assert report.success, "the sample run failed:\n" + "\n".join(report.failures)
        return report

    return sample_landing, once_per_run(tmp_path_factory, "sample_run", run)


@pytest.fixture(scope="session")
def out_of_order(sample_landing, tmp_path_factory):
    """`sample_landing`'s months loaded out of order: `strata materialize --months` over every month
    but one in the middle (the gap), then the gap (tests/support/out_of_order.py). Read-only, as
    `sample_run`."""
    from tests.support.out_of_order import build

    return once_per_run(tmp_path_factory, "out_of_order", lambda root: build(sample_landing.landing_root, root))


# Under xdist (pyproject: `--dist loadscope --no-loadscope-reorder`) each module goes whole to one
# worker, in collection order. The modules that take minutes go first, longest first, so that the
# run never ends with one worker finishing a long module alone (the Spark run alone takes minutes).
LONGEST_FIRST = (
    "engines/test_spark_target.py",  # a whole run on Spark
    "reliability/test_faults.py",  # one chain of six real runs on a copy of sample_run: killed, SIGTERMed, faulted
    "reliability/test_determinism.py",  # the out_of_order chain: three runs (two through the CLI)
    "orchestration/test_dagster_services.py",  # daemon and webserver, a backfill run, two queued runs
    "quality/test_end_to_end_quality.py",  # two real runs (one stops before dbt)
    "finance/test_finance_end_to_end.py",  # a real run of the finance fixture
    "publishing/test_postgres_end_to_end.py",  # a rerun with nothing changed, one after a re-delivery
    "incremental/test_replay_property.py",  # two dbt builds per delivery step
    "scenarios/test_scenarios.py",  # a real run and a dbt build per scenario
    "finance/test_finance_config.py",  # three dbt builds
)


def pytest_collection_modifyitems(config, items) -> None:
    tests = Path(__file__).resolve().parent
    rank = {tests / name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: the rest keep their order

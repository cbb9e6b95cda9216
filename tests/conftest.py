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

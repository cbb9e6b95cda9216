"""Fixtures of the orchestration tests: one generated demo landing folder per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.orchestration.helpers import DEMO_CUSTOMERS, DEMO_END, DEMO_MONTHS


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory) -> Path:
    """A small deterministic sample landing folder: 14 months (2025-09 .. 2026-10) of 16 entities."""
    from orchestration.generator import generate

    root = tmp_path_factory.mktemp("demo") / "landing"
    generate(root, customers=DEMO_CUSTOMERS, months=DEMO_MONTHS, end_month=DEMO_END)
    return root


@pytest.fixture
def landing_copy(demo_landing: Path, tmp_path: Path) -> Path:
    """A private copy of the demo landing folder, for tests that change it."""
    target = tmp_path / "landing"
    shutil.copytree(demo_landing, target)
    return target

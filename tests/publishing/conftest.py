"""Fixtures of the publishing tests: a marts warehouse built once per session, copied per test."""

import shutil
from pathlib import Path

import pytest

from tests.publishing.fixture import build_marts_warehouse


@pytest.fixture(scope="session")
def marts_warehouse_template(tmp_path_factory) -> Path:
    """The fixture warehouse (stamped with run id `template`), built once."""
    return build_marts_warehouse(tmp_path_factory.mktemp("template") / "warehouse.duckdb", run_id="template")


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An output folder whose path holds a single quote and a space (SQL text must escape it)."""
    out = tmp_path / "o'brien out"
    out.mkdir()
    return out


@pytest.fixture
def warehouse(out_dir, marts_warehouse_template) -> Path:
    """A private copy of the fixture warehouse at `<out>/warehouse.duckdb`."""
    target = out_dir / "warehouse.duckdb"
    shutil.copyfile(marts_warehouse_template, target)
    return target

"""Fixtures of the ingestion tests: a landing folder, a warehouse connection, a loader."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assets.ingestion.loader import BatchResult, load_batch


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield c
    c.close()


@pytest.fixture
def load(con, landing):
    def _load(system: str, entity_name: str, batch: str) -> BatchResult:
        return load_batch(con, landing, system, entity_name, batch)
    return _load

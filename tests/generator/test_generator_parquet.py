"""Parquet output: readable, with the contract's columns and types, and the same rows as CSV."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from generator_checks import ARGS, sha256

from assets.core.contract import entities
from orchestration.generator import generate
from orchestration.generator.landing import PARQUET_TYPES


@pytest.fixture(scope="module")
def parquet_landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("parquet") / "landing"
    return root, generate(root, **ARGS, fmt="parquet")


def test_parquet_has_the_same_rows_as_csv(parquet_landing, rows, summary):
    root, psummary = parquet_landing
    assert psummary.rows == summary.rows
    assert psummary.planted_differences == summary.planted_differences
    for (system, name), ent in entities().items():
        csv_rows = defaultdict(list)
        for r in rows[(system, name)]:
            csv_rows[r["_batch"]].append({k: v for k, v in r.items() if k != "_batch"})
        for month in summary.months:
            folder = root / system / name / month
            assert sorted(p.name for p in folder.iterdir()) == ["_manifest.json", "part-0001.parquet"]
            table = pq.read_table(folder / "part-0001.parquet")
            assert table.column_names == list(ent.column_names)
            assert [f.type for f in table.schema] == [PARQUET_TYPES[c.type] for c in ent.columns]
            assert table.to_pylist() == csv_rows[month], (system, name, month)


def test_parquet_manifests_verify(parquet_landing, landing, summary):
    root, _ = parquet_landing
    for system, name in entities():
        for month in summary.months:
            folder = root / system / name / month
            manifest = json.loads((folder / "_manifest.json").read_text())
            (f,) = manifest["files"]
            assert f["sha256"] == sha256(folder / f["name"])
            assert f["rows"] == pq.read_metadata(folder / f["name"]).num_rows
            as_csv = json.loads((landing / system / name / month / "_manifest.json").read_text())
            assert f["rows"] == as_csv["files"][0]["rows"]
            totals = {k: Decimal(v) for k, v in manifest["control_totals"].items()}
            assert totals == {k: Decimal(v) for k, v in as_csv["control_totals"].items()}


def test_parquet_is_deterministic(parquet_landing, tmp_path):
    root, _ = parquet_landing
    again = tmp_path / "again"
    generate(again, **ARGS, fmt="parquet")
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []

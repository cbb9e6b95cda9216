"""A generated folder is exactly what the landing contract (docs/landing-contract.md, assets/core/extracts.yml) describes."""

from __future__ import annotations

import json

import pytest
from generator_checks import ARGS, MONTH, check_batch

from assets.core.contract import entities

ENTITIES = sorted(entities())


def test_every_entity_has_a_batch_for_every_month(landing, summary):
    assert len(summary.months) == ARGS["months"]
    assert summary.months[0] == "2024-11" and summary.months[-1] == "2025-12"
    systems = sorted(p.name for p in landing.iterdir() if p.is_dir())
    assert systems == ["crm", "erp", "psa"]
    for system, name in ENTITIES:
        folders = sorted(p.name for p in (landing / system / name).iterdir())
        assert folders == summary.months, (system, name)
        for month in folders:
            files = sorted(p.name for p in (landing / system / name / month).iterdir())
            assert files == ["_manifest.json", "part-0001.csv"], (system, name, month)
    entity_folders = sorted((p.parent.name, p.name) for p in landing.glob("*/*") if p.is_dir())
    assert entity_folders == ENTITIES


@pytest.mark.parametrize(("system", "name"), ENTITIES, ids=[f"{s}/{e}" for s, e in ENTITIES])
def test_every_batch_conforms_to_the_contract(landing, system, name):
    ent = entities()[(system, name)]
    problems = []
    for folder in sorted((landing / system / name).iterdir()):
        assert MONTH.match(folder.name)
        problems += check_batch(ent, folder)
    assert problems == []


def test_manifests_name_the_extraction_after_the_month(landing, summary):
    for system, name in ENTITIES:
        for month in summary.months:
            manifest = json.loads((landing / system / name / month / "_manifest.json").read_text())
            assert manifest["extracted_at"] > f"{month}-31"
            assert manifest["extracted_at"].endswith("T03:15:00Z")


def test_summary_counts_what_was_written(landing, summary, rows):
    assert summary.landing_root == landing
    assert set(summary.rows) == {f"{s}/{e}" for s, e in ENTITIES}
    for system, name in ENTITIES:
        assert summary.rows[f"{system}/{name}"] == len(rows[(system, name)]), (system, name)
        assert summary.rows[f"{system}/{name}"] > 0
    assert summary.files == len(ENTITIES) * ARGS["months"]
    body = json.loads((landing / "_generator.json").read_text())
    assert body["arguments"] == {**ARGS, "fmt": "csv"}
    assert body["summary"]["rows"] == summary.rows
    assert body["summary"]["planted_differences"] == [p.to_json() for p in summary.planted_differences]
    assert str(landing) not in (landing / "_generator.json").read_text()


def test_root_files_are_ignored_by_name(landing):
    """Files at the landing root start with '_' (the loader ignores them)."""
    assert sorted(p.name for p in landing.iterdir() if p.is_file()) == ["_generator.json", "_personas.csv"]

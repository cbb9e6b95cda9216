"""Same arguments and seed: byte-identical files. Another seed: other data. Arguments are checked."""

from __future__ import annotations

import datetime as dt

import pytest
from generator_checks import ARGS

from orchestration.generator import generate
from orchestration.generator.calendar import last_complete_month


def files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_byte_identical_files(landing, tmp_path):
    again = tmp_path / "again"
    generate(again, **ARGS)
    first, second = files(landing), files(again)
    assert sorted(first) == sorted(second)
    assert len(first) == 16 * 2 * ARGS["months"] + 2
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_another_seed_gives_other_data(landing, tmp_path):
    other = tmp_path / "other"
    generate(other, **{**ARGS, "seed": 8})
    first, second = files(landing), files(other)
    assert sorted(first) == sorted(second)  # the same layout
    for month in ("2024-11", "2025-06", "2025-12"):
        for entity in (
            "erp/sales_lines",
            "erp/customers",
            "crm/activities",
            "psa/tickets",
            "erp/gl_balances",
        ):
            name = f"{entity}/{month}/part-0001.csv"
            assert first[name] != second[name], name
    assert first["_personas.csv"] != second["_personas.csv"]


def test_end_month_defaults_to_the_last_complete_month():
    assert last_complete_month(dt.date(2026, 3, 15)) == "2026-02"
    assert last_complete_month(dt.date(2026, 1, 1)) == "2025-12"
    assert last_complete_month(dt.date(2026, 12, 31)) == "2026-11"


def test_default_end_month_is_written_down(tmp_path):
    summary = generate(tmp_path / "now", customers=5, months=2)
    assert summary.months[-1] == last_complete_month()
    assert len(summary.months) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"fmt": "xlsx"},
        {"months": 0},
        {"customers": 0},
        {"end_month": "2025-13"},
        {"end_month": "2025/12"},
        {"end_month": "202512"},
        {"seed": -1},
    ],
)
def test_bad_arguments_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        generate(tmp_path / "x", **{**ARGS, **bad})


def test_regenerating_replaces_the_previous_generation(tmp_path):
    root = tmp_path / "landing"
    generate(root, customers=5, months=3, end_month="2025-12", seed=1)
    generate(root, customers=5, months=2, end_month="2025-06", seed=1)
    months = sorted(p.name for p in (root / "erp" / "sales_lines").iterdir())
    assert months == ["2025-05", "2025-06"]


def test_a_folder_with_foreign_extracts_is_refused(tmp_path):
    root = tmp_path / "landing"
    (root / "erp" / "customers" / "2025-01").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        generate(root, customers=5, months=2, end_month="2025-12")
    assert (root / "erp" / "customers" / "2025-01").exists()


def test_progress_is_reported_per_month(tmp_path):
    calls = []
    generate(tmp_path / "p", customers=5, months=3, end_month="2025-12", progress=lambda *a: calls.append(a))
    assert calls == [
        ("generating 2025-10", 0, 3),
        ("generating 2025-11", 1, 3),
        ("generating 2025-12", 2, 3),
        ("written", 3, 3),
    ]

"""The CTEs marked `{{ inline_cte() }}` are read in place on DuckDB, never stored first.

DuckDB stores a CTE that a query reads more than once (CTE materialization): for an import CTE
that is a second copy of a table, which at L spills to disk (dbt_project/macros/engine.sql,
docs/performance.md). DuckDB's plan names each CTE it stores (`CTE Name: <name>`), so the plan of
every compiled model and test of a real run must name none of the marked ones.
"""

from __future__ import annotations

import re

import duckdb

from assets.core.dbt import DBT_PROJECT_DIR as DBT_PROJECT

MARKED = re.compile(r"(\w+) as \{\{ inline_cte\(\) \}\} \(")


def _marked_ctes() -> dict[str, set[str]]:
    """{path of a model or test under the dbt project: the names of its marked CTEs}."""
    marked = {}
    for path in sorted((DBT_PROJECT / "models").rglob("*.sql")) + sorted((DBT_PROJECT / "tests").rglob("*.sql")):
        names = set(MARKED.findall(path.read_text()))
        if names:
            marked[str(path.relative_to(DBT_PROJECT))] = names
    return marked


def test_every_staging_model_marks_its_source_cte():
    marked = _marked_ctes()
    staging = sorted((DBT_PROJECT / "models" / "staging").rglob("*.sql"))
    assert staging
    for path in staging:
        assert "source" in marked.get(str(path.relative_to(DBT_PROJECT)), set()), path


def test_duckdb_stores_none_of_the_marked_ctes(sample_run):
    _, report = sample_run
    out = report.warehouse.parent
    marked = _marked_ctes()
    checked = 0
    with duckdb.connect(str(report.warehouse), read_only=True) as con:
        for relative, names in marked.items():
            compiled = sorted((out / "dbt_target").glob(f"*/compiled/strata/{relative}"))
            assert compiled, f"{relative}: no compiled SQL in the run's dbt_target"
            plan = con.execute("EXPLAIN " + compiled[0].read_text()).fetchall()[0][1]
            stored = set(re.findall(r"CTE Name: (\w+)", plan))
            assert not names & stored, f"{relative}: DuckDB stores {sorted(names & stored)}"
            checked += 1
    assert checked == len(marked) > 16

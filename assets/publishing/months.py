"""Publishing by month: which months of each published table a publication rewrites.

A monthly table (its key starts with `month`) is published hive style, one folder a month:
`<table>/month=YYYY-MM-DD/data.parquet`, each file holding the table's every column, `month`
included, so a reader of the folder gets `month` as the same DATE column in the same place
(DuckDB takes a column the file holds over the folder's value). A publication builds on the
current version (its *base*): it writes the months the build plans since the base rewrote
(assets/core/build_plan.py) and hard-links every other month's file from the base, so an update
costs what the changed months hold. What each publication rewrote is kept in its manifest, so
PostgreSQL can follow month by month too.

Everything is rewritten whole when the base cannot be trusted to hold the other months: no
current version (or one written before publishing by month), no build plan recorded, a build
plan since the base that is FULL, a base whose plan the warehouse does not know (another
warehouse, or plans pruned), or, per table, a change of its columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from assets.core.build_plan import FULL, INCREMENTAL, LAYERS, NOOP, BuildPlan, months_for_table

MONTH_COLUMN = "month"
MONTH_FOLDER_PREFIX = f"{MONTH_COLUMN}="


def month_folder(month: dt.date) -> str:
    """The hive-style folder of one month: `month=2025-01-31`."""
    return f"{MONTH_FOLDER_PREFIX}{month.isoformat()}"


def is_monthly(key: Sequence[str]) -> bool:
    """A table whose grain starts with the month is published one folder a month."""
    return bool(key) and key[0] == MONTH_COLUMN


@dataclass(frozen=True)
class MonthPlan:
    """What one publication rewrites.

    `base`: the current version whose unchanged months are linked (None: write everything);
    `plan`: the build plans since the base, combined (None: every table whole);
    `build_plan_run`: the newest build plan this publication incorporates (kept in its manifest);
    `reason`: why everything is rewritten, or which plans are followed.
    """

    base: Path | None
    base_manifest: Mapping[str, Any] | None
    plan: BuildPlan | None
    build_plan_run: str | None
    reason: str

    @property
    def incremental(self) -> bool:
        return self.base is not None and self.plan is not None and not self.plan.is_full

    def months(self, table: str, columns: list[dict[str, Any]]) -> frozenset[dt.date] | None:
        """The months of `table` to rewrite; None: the whole table (also when its columns changed)."""
        if not self.incremental:
            return None
        before = (self.base_manifest or {}).get("tables", {}).get(table)
        if before is None or before.get("months") is None or _shape(before["columns"]) != _shape(columns):
            return None
        return months_for_table(self.plan, table)

    def base_months(self, table: str) -> dict[dt.date, int]:
        """The months the base holds of `table`, with their rows."""
        before = (self.base_manifest or {}).get("tables", {}).get(table) or {}
        return {dt.date.fromisoformat(m): n for m, n in (before.get("months") or {}).items()}


def _shape(columns: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    return [(c["name"], c["type"], c["nullable"]) for c in columns]


def plan_publication(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    base: Path | None,
    base_manifest: Mapping[str, Any] | None,
) -> MonthPlan:
    """Combine the build plans recorded in the warehouse (`catalog`) since the base was published."""
    plans = _recorded_plans(con, catalog)
    newest = plans[-1][0] if plans else None

    def whole(reason: str) -> MonthPlan:
        return MonthPlan(base=None, base_manifest=None, plan=None, build_plan_run=newest, reason=reason)

    if not plans:
        return whole("no build plan recorded: every table is written whole")
    if base is None or base_manifest is None:
        return whole("nothing published yet: every table is written whole")
    if base_manifest.get("format", 1) < 2:
        return whole(f"the current copy {base.name} is not published by month: every table is written whole")
    since = base_manifest.get("build_plan")
    runs = [run for run, _ in plans]
    if since not in runs:
        return whole(f"the current copy {base.name} was published from a build plan this warehouse "
                     "does not hold: every table is written whole")
    pending = plans[runs.index(since) + 1:]
    if any(mode == FULL for _, mode in pending):
        return whole("a build plan since the current copy rebuilt everything: every table is written whole")
    months: dict[str, set[dt.date]] = {layer: set() for layer in LAYERS}
    for run, _ in pending:
        for layer, month in con.execute(
            f"SELECT layer, month FROM {catalog}.audit.build_plan_months WHERE run_id = ?", [run]
        ).fetchall():
            if layer in months:  # the marts follow the main layers (the narrower ones are subsets)
                months[layer].add(month)
    mode = INCREMENTAL if any(months.values()) else NOOP
    combined = BuildPlan(
        run_id=newest, mode=mode, reason=f"build plans since {base.name}: {len(pending)}",
        fact_months=frozenset(months["fact"]), segment_months=frozenset(months["segment"]),
        kpi_months=frozenset(months["kpi"]),
    )
    return MonthPlan(base=base, base_manifest=base_manifest, plan=combined, build_plan_run=newest,
                     reason=f"{len(pending)} build plan(s) since {base.name}, {mode.lower()}")


def publication_caught_up(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> bool:
    """Whether the published copy (its manifest) holds every build plan of the warehouse (`con`)
    that changed something: no plan but NOOP ones came after the one it was published from."""
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    plans = _recorded_plans(con, catalog)
    runs = [run for run, _ in plans]
    since = manifest.get("build_plan")
    if since not in runs:
        return False
    return all(mode == NOOP for _, mode in plans[runs.index(since) + 1:])


def _recorded_plans(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    """(run id, mode) of every recorded build plan, oldest first."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'audit' AND table_name IN ('build_plans', 'build_plan_months')",
        [catalog],
    ).fetchone()[0]
    if exists < 2:
        return []
    return [
        (run, mode)
        for run, mode in con.execute(
            f"SELECT run_id, mode FROM {catalog}.audit.build_plans ORDER BY planned_at, run_id"
        ).fetchall()
    ]

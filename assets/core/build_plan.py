"""The build plan: which months a run recomputes, shared by the dbt build and publishing.

The planner (docs/incremental.md) decides per run whether to rebuild everything (FULL, with the
reason), only some months (INCREMENTAL) or nothing (NOOP), and records that decision here. The dbt
build recomputes exactly the plan's months; publishing, in the same run, reads the latest plan and
rewrites exactly those months of each published table. Months are month-end DATEs, as in the marts.

Layers: `fact` months are those whose inputs changed; `segment` months those whose T12M window (or
survey look-back) meets a fact month; `kpi` months those whose month or month - 12 has a
recomputed segment month. Narrower layers name the months of one model's own inputs: `sales` (the
sales lines as customers see them: int_sales_lines), and one per transactional entity
(`erp__sales_lines`, ...: its staging model, which reads that entity's raw table alone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

FULL = "FULL"
INCREMENTAL = "INCREMENTAL"
NOOP = "NOOP"
MODES = (FULL, INCREMENTAL, NOOP)

LAYERS = ("fact", "segment", "kpi")

# A run tag that makes the run's dbt build FULL whatever changed (`strata materialize --full-refresh`,
# or set by hand when launching a run in the Dagster UI).
FULL_REFRESH_TAG = "strata/full_refresh"

# The one mapping from published mart to the layer whose months it is rewritten for. A mart not
# listed here (account_playbook: the newest month only; the audit tables) is rewritten whole.
MART_LAYER = {
    "fct_customer_profit_monthly": "fact",
    "fct_cost_to_serve_monthly": "fact",
    "margin_reconciliation": "fact",
    "customer_segments": "segment",
    "clv_model_fits": "segment",
    "segment_kpis": "kpi",
    "segment_transitions": "kpi",
    "kpi_target_status": "kpi",
}

DDL = (
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.build_plans (
        run_id VARCHAR, planned_at TIMESTAMP, mode VARCHAR, reason VARCHAR,
        config_version VARCHAR, code_version VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.build_plan_months (
        run_id VARCHAR, layer VARCHAR, month DATE)""",
)


@dataclass(frozen=True)
class BuildPlan:
    run_id: str
    mode: str
    reason: str
    fact_months: frozenset[dt.date] = frozenset()
    segment_months: frozenset[dt.date] = frozenset()
    kpi_months: frozenset[dt.date] = frozenset()
    # the narrower layers (`sales`, one per transactional entity), subsets of the fact months
    model_months: Mapping[str, frozenset[dt.date]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"build plan mode {self.mode!r} is not one of {', '.join(MODES)}")

    @property
    def is_full(self) -> bool:
        return self.mode == FULL

    @property
    def is_noop(self) -> bool:
        return self.mode == NOOP

    def months(self, layer: str) -> frozenset[dt.date]:
        """The months of `layer`; a narrower layer the plan does not name has none."""
        main = {"fact": self.fact_months, "segment": self.segment_months, "kpi": self.kpi_months}
        return main[layer] if layer in main else self.model_months.get(layer, frozenset())

    @property
    def layers(self) -> list[str]:
        return [*LAYERS, *sorted(self.model_months)]


def create_build_plan_tables(con: duckdb.DuckDBPyConnection) -> None:
    for sql in DDL:
        con.execute(sql)


def write_plan(con: duckdb.DuckDBPyConnection, plan: BuildPlan,
               config_version: str | None = None, code_version: str | None = None) -> None:
    """Record the plan (replacing an earlier one of the same run) in one transaction."""
    create_build_plan_tables(con)
    planned_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM audit.build_plans WHERE run_id = ?", [plan.run_id])
        con.execute("DELETE FROM audit.build_plan_months WHERE run_id = ?", [plan.run_id])
        con.execute("INSERT INTO audit.build_plans VALUES (?, ?, ?, ?, ?, ?)",
                    [plan.run_id, planned_at, plan.mode, plan.reason, config_version, code_version])
        rows = [(plan.run_id, layer, m) for layer in plan.layers for m in sorted(plan.months(layer))]
        if rows:
            con.executemany("INSERT INTO audit.build_plan_months VALUES (?, ?, ?)", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def latest_plan(con: duckdb.DuckDBPyConnection) -> BuildPlan | None:
    """The newest recorded plan; None when none is recorded yet (treat as FULL)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'audit' AND table_name = 'build_plans'").fetchone()[0]
    if not exists:
        return None
    head = con.execute(
        "SELECT run_id, mode, reason FROM audit.build_plans "
        "ORDER BY planned_at DESC, run_id DESC LIMIT 1").fetchone()
    if head is None:
        return None
    run_id, mode, reason = head
    months: dict[str, set[dt.date]] = {layer: set() for layer in LAYERS}
    for layer, month in con.execute(
            "SELECT layer, month FROM audit.build_plan_months WHERE run_id = ?", [run_id]).fetchall():
        months.setdefault(layer, set()).add(month)
    return BuildPlan(run_id=run_id, mode=mode, reason=reason or "",
                     fact_months=frozenset(months.pop("fact")),
                     segment_months=frozenset(months.pop("segment")),
                     kpi_months=frozenset(months.pop("kpi")),
                     model_months={layer: frozenset(m) for layer, m in months.items()})


def months_for_table(plan: BuildPlan | None, table: str) -> frozenset[dt.date] | None:
    """The months of `table` to rewrite under `plan`; None means the whole table.

    No plan or a FULL plan rewrites every table whole; a NOOP plan rewrites nothing (an empty
    set); a table without a layer (account_playbook, audit tables) is always rewritten whole.
    """
    if plan is None or plan.is_full:
        return None
    layer = MART_LAYER.get(table)
    if layer is None:
        return None
    return plan.months(layer)

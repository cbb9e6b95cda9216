"""Freshness: an entity without a batch for the newest month present in the landing folder.

When any system delivered month M, every entity is expected to have a batch for M (a transactional
entity's rows of M, a snapshot as of M's end). An entity that lags is reported (WARN, never
blocking): the marts are right for the months they have, but the newest month is incomplete.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.core.catalog import table_exists
from assets.core.contract import entities
from quality import gx_runner, ranges
from quality.base import CheckDef, Env
from quality.warehouse import MONTH


def landing_months(landing: Path) -> dict[tuple[str, str], list[str]]:
    """Batch months present per contract entity in the landing folder (folders named YYYY-MM)."""
    out: dict[tuple[str, str], list[str]] = {}
    for system, name in entities():
        folder = Path(landing) / system / name
        months = (
            sorted(p.name for p in folder.iterdir() if p.is_dir() and MONTH.match(p.name))
            if folder.is_dir()
            else []
        )
        out[(system, name)] = months
    return out


def _present(env: Env) -> dict[tuple[str, str], list[str]]:
    if "landing_months" not in env.memo:  # scanned once per step, shared by the entities' checks
        env.memo["landing_months"] = landing_months(env.landing)
    return env.memo["landing_months"]


def _loaded_batches(env: Env, system: str, name: str) -> dict[str, str] | None:
    """{batch: status} from audit.load_batches, or None when there is no audit table yet."""
    if "load_status" not in env.memo:
        env.memo["load_status"] = _load_status(env)
    status = env.memo["load_status"]
    return None if status is None else status.get((system, name), {})


def _load_status(env: Env) -> dict[tuple[str, str], dict[str, str]] | None:
    if not Path(env.warehouse).exists():
        return None
    with env.connect() as con:
        if not table_exists(con, "audit", "load_batches"):
            return None
        rows = con.execute(
            "SELECT system, entity, batch, string_agg(DISTINCT status, ',' ORDER BY status) "
            "FROM audit.load_batches WHERE batch IS NOT NULL GROUP BY system, entity, batch"
        ).fetchall()
    out: dict[tuple[str, str], dict[str, str]] = {}
    for system, name, batch, status in rows:
        out.setdefault((system, name), {})[batch] = status
    return out


def freshness_body(system: str, name: str):
    def body(env: Env) -> dg.AssetCheckResult:
        present = _present(env)
        newest = max((m for months in present.values() for m in months), default=None)
        mine = present[(system, name)]
        md: dict = {
            "landing": dg.MetadataValue.path(str(env.landing)),
            "newest_landing_month": newest or "",
            "entity_newest_month": mine[-1] if mine else "",
            "entity_months": len(mine),
        }
        loaded = _loaded_batches(env, system, name)
        if loaded is not None and newest is not None:
            md["newest_month_load_status"] = loaded.get(newest, "NOT LOADED")
        if newest is None:
            return dg.AssetCheckResult(
                passed=True,
                metadata={**md, "outcome": gx_runner.PASSED},
                description="the landing folder holds no batches",
            )
        if mine and mine[-1] == newest:
            status = md.get("newest_month_load_status")
            if status is not None and "LOADED" not in status.split(","):
                return dg.AssetCheckResult(
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={**md, "outcome": gx_runner.DATA_FAILED},
                    description=f"{gx_runner.DATA_FAILED}: the {newest} batch of {system}/{name} is in the "
                    f"landing folder but not loaded ({status}); see audit.load_batches",
                )
            return dg.AssetCheckResult(
                passed=True,
                metadata={**md, "outcome": gx_runner.PASSED},
                description=f"{system}/{name} has a batch for {newest}",
            )
        lag = _months_between(mine[-1], newest) if mine else None
        md["months_behind"] = lag if lag is not None else -1
        had = (
            f"its newest is {mine[-1]} ({lag} month{'s' if lag != 1 else ''} behind)"
            if mine
            else "it has no batch at all"
        )
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN
            if ranges.FRESHNESS_SEVERITY != ranges.ERROR
            else dg.AssetCheckSeverity.ERROR,
            metadata={
                **md,
                "outcome": gx_runner.DATA_FAILED,
                "expected_folder": str(Path(env.landing) / system / name / newest),
            },
            description=f"{gx_runner.DATA_FAILED}: {system}/{name} has no batch for {newest}, "
            "the newest month "
            f"in the landing folder; {had}",
        )

    return body


def _months_between(a: str, b: str) -> int:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def freshness_check_defs() -> list[CheckDef]:
    return [
        CheckDef(
            asset_key=dg.AssetKey([system, name]),
            name="batch_freshness",
            severities=frozenset({ranges.FRESHNESS_SEVERITY}),
            body=freshness_body(system, name),
            description=f"{system}/{name} has a batch for the newest month present in the landing folder "
            "(non-blocking).",
            group="quality_batch_freshness",
        )
        for system, name in entities()
    ]

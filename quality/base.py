"""What every check shares: its definition, the environment it runs in, and the Dagster wrapper.

A check's body is a plain function of an `Env` (warehouse, output folder, landing folder, settings,
the run's batch months) returning an AssetCheckResult, so tests call it directly on a small
warehouse; `build()` turns it into a Dagster `@asset_check` that reads the `paths` resource and the
run's partition tags.
"""

# No `from __future__ import annotations` here: Dagster reads the check function's annotations
# (the context and the `paths` resource) at definition time and needs real types.
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.resources import StrataPaths
from orchestration.settings import Settings, load_settings
from quality import gx_runner
from quality.warehouse import BatchScope

# The checks read the warehouse: they share the writers' concurrency key so that no check opens the
# DuckDB file while another process writes it (docs/architecture.md: one writer at a time).
WAREHOUSE_OP_TAGS = {"dagster/concurrency_key": "warehouse_writer"}


@dataclass(frozen=True)
class Env:
    warehouse: Path
    out: Path
    landing: Path
    config_file: Path | None = None
    scope: BatchScope = field(default_factory=BatchScope)

    def settings(self) -> Settings:
        return load_settings(self.config_file)

    @classmethod
    def from_paths(cls, paths: StrataPaths, scope: BatchScope | None = None) -> "Env":
        return cls(
            warehouse=paths.warehouse,
            out=paths.out,
            landing=paths.landing,
            config_file=Path(paths.config_file),
            scope=scope or BatchScope(),
        )


Body = Callable[[Env], dg.AssetCheckResult]


@dataclass(frozen=True)
class CheckDef:
    asset_key: dg.AssetKey
    name: str
    description: str
    blocking: bool
    body: Body
    additional_deps: tuple[dg.AssetKey, ...] = ()

    def run(self, env: Env) -> dg.AssetCheckResult:
        """The body, with its own failures reported as a result rather than a crashed step."""
        started = time.perf_counter()
        try:
            result = self.body(env)
        except Exception as exc:  # a broken check says so (and a blocking one still blocks)
            result = gx_runner.raised_result(exc, self.blocking)
        seconds = round(time.perf_counter() - started, 3)
        return _with_metadata(result, {"check_seconds": dg.MetadataValue.float(seconds)})


def _with_metadata(result: dg.AssetCheckResult, extra: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata={**(result.metadata or {}), **extra},
        asset_key=result.asset_key,
        check_name=result.check_name,
    )


def build(check: CheckDef, known_keys: set[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """The Dagster asset check of a CheckDef (additional deps limited to assets that exist)."""
    deps = [k for k in check.additional_deps if k in known_keys and k != check.asset_key]

    @dg.asset_check(
        asset=check.asset_key,
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        additional_deps=deps or None,
        op_tags=WAREHOUSE_OP_TAGS,
        metadata={"blocking": check.blocking, "defined_in": "quality/"},
    )
    def _check(context: dg.AssetCheckExecutionContext, paths: StrataPaths) -> dg.AssetCheckResult:
        scope = BatchScope.from_tags(context.run.tags)
        return check.run(Env.from_paths(paths, scope))

    return _check

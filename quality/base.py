"""What every check shares: its definition, the environment it runs in, and the Dagster wrapper.

A check's body is a plain function of an `Env` (warehouse, output folder, landing folder, settings,
the run's batch months) returning an AssetCheckResult, so tests call it directly on a small
warehouse; `build()` turns it into a Dagster `@asset_check` that reads the `paths` resource and the
run's partition tags.
"""

# No `from __future__ import annotations` here: Dagster reads the check function's annotations
# (the context and the `paths` resource) at definition time and needs real types.
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from assets.core.engines import open_layers
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries
from assets.core.settings import Settings, load_settings
from quality import check_results
from quality.ranges import ERROR
from quality.warehouse import BatchScope, connect

# The checks read the warehouse: they share the writers' concurrency key so that no check opens the
# DuckDB file while another process writes it (docs/architecture.md: one writer at a time).


@dataclass(frozen=True)
class Env:
    warehouse: Path
    out: Path
    landing: Path
    config_file: Path | None = None
    scope: BatchScope = field(default_factory=BatchScope)
    # The engine that built the dbt models (assets/core/engines.py): on `spark` the connection
    # shows Spark's intermediate and marts tables beside the warehouse's raw and audit schemas.
    dbt_target: str = "duckdb"
    # What the checks of one step share: a warehouse connection, the landing scan.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The step's shared read-only connection if there is one, else a short one of its own."""
        shared = self.memo.get("connection")
        if shared is not None:
            yield shared
            return
        with self._open() as con:
            yield con

    def _open(self):
        if self.dbt_target == "duckdb":
            return connect(self.warehouse)
        return open_layers(self.warehouse, self.out, self.dbt_target)

    @contextmanager
    def shared_connection(self) -> Iterator[None]:
        """One read-only connection for every check of a step (closed when the step ends)."""
        if not Path(self.warehouse).exists():
            yield
            return
        with self._open() as con:
            self.memo["connection"] = con
            try:
                yield
            finally:
                self.memo.pop("connection", None)

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
            dbt_target=paths.target,
        )


Body = Callable[[Env], dg.AssetCheckResult]


@dataclass(frozen=True)
class CheckDef:
    asset_key: dg.AssetKey
    name: str
    description: str
    # The severities a failure of this check can carry. It is blocking exactly when ERROR is among
    # them, so the severity printed for a failure always says what it did (quality/summary.py):
    # ERROR stops what is downstream, WARN is reported and the run publishes.
    severities: frozenset[str]
    body: Body
    additional_deps: tuple[dg.AssetKey, ...] = ()
    model: bool = False  # a dbt model: the graph may key it [model] or ["marts", model]
    group: str | None = None  # checks of one group run in one step (a multi-asset check)

    @property
    def blocking(self) -> bool:
        return ERROR in self.severities

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.asset_key, self.name)

    def run(self, env: Env) -> dg.AssetCheckResult:
        """The body, with its own failures reported as a result rather than a crashed step."""
        started = time.perf_counter()
        try:
            result = self.body(env)
        except Exception as exc:  # a broken check says so (and a blocking one still blocks)
            result = check_results.raised_result(exc, self.blocking)
        seconds = round(time.perf_counter() - started, 3)
        return _with_metadata(result, {"check_seconds": dg.MetadataValue.float(seconds)})


def _with_metadata(
    result: dg.AssetCheckResult, extra: dict, key: dg.AssetCheckKey | None = None
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata={**(result.metadata or {}), **extra},
        asset_key=key.asset_key if key else result.asset_key,
        check_name=key.name if key else result.check_name,
    )


def _deps(check: CheckDef, known_keys: set[dg.AssetKey]) -> list[dg.AssetKey]:
    return [k for k in check.additional_deps if k in known_keys and k != check.asset_key]


def build(check: CheckDef, known_keys: set[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """The Dagster asset check of a CheckDef (additional deps limited to assets that exist)."""
    deps = _deps(check, known_keys)

    @dg.asset_check(
        asset=check.asset_key,
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        additional_deps=deps or None,
        pool=WAREHOUSE_WRITER_POOL,
        metadata={"blocking": check.blocking, "defined_in": "quality/"},
    )
    @transient_retries
    def _check(context: dg.AssetCheckExecutionContext, paths: StrataPaths) -> dg.AssetCheckResult:
        scope = BatchScope.from_tags(context.run.tags)
        return check.run(Env.from_paths(paths, scope))

    return _check


def build_group(name: str, checks: list[CheckDef], known_keys: set[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """Several checks run in one step: one Dagster multi-asset check, subsettable.

    Each check keeps its own asset, name, blocking flag and result in the UI; running them in one
    step saves Dagster's per-step cost (a few tenths of a second each) for the many small checks of
    the ingestion assets. A blocking failure fails the step, so whatever depends on any of its
    blocking checks waits: for ingestion that is the dbt build, which reads every entity anyway.
    """
    specs = [
        dg.AssetCheckSpec(
            name=c.name,
            asset=c.asset_key,
            description=c.description,
            blocking=c.blocking,
            additional_deps=_deps(c, known_keys) or None,
            metadata={"blocking": c.blocking, "defined_in": "quality/"},
        )
        for c in checks
    ]

    @dg.multi_asset_check(name=name, specs=specs, can_subset=True, pool=WAREHOUSE_WRITER_POOL)
    @transient_retries
    def _checks(context: dg.AssetCheckExecutionContext, paths: StrataPaths):
        env = Env.from_paths(paths, BatchScope.from_tags(context.run.tags))
        selected = context.selected_asset_check_keys
        with env.shared_connection():
            for check in checks:
                if check.key in selected:
                    yield _with_metadata(check.run(env), {}, check.key)

    return _checks

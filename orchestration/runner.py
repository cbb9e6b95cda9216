"""`strata materialize`: run the whole Dagster asset graph over a landing folder.

The run goes through the same `Definitions` that `dagster dev` loads (`build_definitions`), on a
persistent Dagster instance in `<out>/dagster_home`, so the Dagster UI can show what it did
(`DAGSTER_HOME=<out>/dagster_home dagster dev -w workspace.yaml`). All months present in the
landing folder are loaded in one run (a partition range), then dbt, the checks and publishing. The
landing folder is checked first (orchestration/preflight.py), before anything is imported or built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef  # public API has no from-folder constructor

from assets.core.build_plan import FULL_REFRESH_TAG
from assets.core.resources import StrataPaths
from assets.core.settings import load_settings
from orchestration.preflight import MaterializeError, check_landing, contiguous_blocks
from quality.summary import FailedChecks, failed_checks

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"

__all__ = ["MaterializeError", "RunReport", "materialize", "open_instance", "prepare_dbt"]


@dataclass
class RunReport:
    success: bool
    run_id: str
    months: list[str]
    warehouse: Path
    published: Path
    dagster_home: Path
    failures: list[str] = field(default_factory=list)
    # Failed checks: those that stopped the run (blocking and ERROR) and those reported as warnings.
    check_failures: FailedChecks = field(default_factory=FailedChecks)
    materialized: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)  # every run, in order (several for months with gaps)
    nothing_changed: bool = False  # a no-op: nothing loaded, no model recomputed, no run started


def dagster_home(out: Path) -> Path:
    return out / "dagster_home"


def open_instance(out: Path) -> dg.DagsterInstance:
    """The persistent instance kept beside the warehouse (runs, events, dynamic partitions)."""
    from orchestration.dagster_instances import install

    home = dagster_home(out)
    # orchestration/dagster_instances/local/dagster.yaml (unless the folder has its own): telemetry
    # off, one writer of the warehouse at a time (pool warehouse_writer), run monitoring.
    install(home)
    _sqlite_without_fsync()
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


_SQLITE_TUNED = False


def _sqlite_without_fsync() -> None:
    """Dagster's SQLite storage opens a connection per event and SQLite fsyncs on every commit and
    on every close (WAL checkpoint): ~15-20 ms each on this machine's disk, thousands of times per
    run (a planned event per asset and check, a handful per step), which made most of a small
    run's time (docs/performance.md). Connections opened by this process get synchronous=OFF: an
    OS crash (not a process crash) may lose the newest run-history events of the local instance;
    the warehouse is DuckDB's own file and not concerned. The PostgreSQL instance is untouched."""
    global _SQLITE_TUNED
    if _SQLITE_TUNED:
        return
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _no_fsync(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    _SQLITE_TUNED = True


def materialize(landing: Path, out: Path, config_file: Path | None = None, verbose: bool = False,
                months: Sequence[str] | None = None, run_id: str | None = None,
                on_progress: Callable | None = None, full_refresh: bool = False,
                ingestion_only: bool = False) -> RunReport:
    """Materialise every asset for every month in `landing`, writing under `out`.

    `months` (optional) loads only those months' batches, exactly: one run per stretch of
    consecutive months, the ingestion assets alone for all but the last, whose run also builds dbt,
    the checks and publishing as always. `ingestion_only` makes the last run load batches only too
    (the benchmark's ingestion measure). `run_id` names the (last) run; `on_progress` receives an
    `orchestration.run_events.RunProgress` after every change while a run executes.

    A rerun over a landing folder that holds exactly what the last complete build was made from
    (same configuration and model code) starts nothing: it records a NOOP build plan and returns a
    report with `nothing_changed` (docs/incremental.md). `full_refresh` rebuilds every dbt model
    from scratch whatever changed.
    """
    landing, out = Path(landing).resolve(), Path(out).resolve()
    check_landing(landing)  # cheap: before any Dagster or dbt work
    settings_file = Path(config_file).resolve() if config_file else None
    load_settings(settings_file)  # refuse an invalid configuration before anything runs
    out.mkdir(parents=True, exist_ok=True)
    run_id = run_id or str(uuid.uuid4())
    if not months and not full_refresh and _nothing_changed(landing, out, settings_file, run_id):
        return RunReport(success=True, run_id=run_id, months=[], warehouse=out / "warehouse.duckdb",
                         published=out / "published", dagster_home=dagster_home(out),
                         run_ids=[run_id], nothing_changed=True)

    paths = StrataPaths(landing_dir=str(landing), out_dir=str(out),
                        **({"config_file": str(settings_file)} if settings_file else {}))
    from assets.core.engines import require_adapter

    require_adapter(paths.target)
    prepare_dbt(warehouse=paths.warehouse, settings_file=settings_file)
    from assets.ingestion.assets import ingestion_assets, register_months  # heavy imports only when running
    from orchestration.definitions import build_definitions
    from orchestration.run_events import RunProgress, follow_run, plan, step_phases

    instance = open_instance(out)
    # A run whose process was killed still holds the warehouse pool slot: free it (recovery.py).
    from orchestration.recovery import release_dead_runs

    release_dead_runs(instance)
    registered = register_months(instance, landing)
    if not registered:
        raise MaterializeError(
            f"no batches found in {landing}: expected <system>/<entity>/<YYYY-MM>/ folders "
            "(see the landing contract, docs/landing-contract.md)"
        )
    blocks = contiguous_blocks(_run_months(registered, months, landing), registered)
    defs = build_definitions(paths)
    job = defs.resolve_job_def("materialize_all")
    phases_by_step = step_phases(defs)
    run_ids = [str(uuid.uuid4()) for _ in blocks[:-1]] + [run_id]
    report = RunReport(
        success=True, run_id=run_ids[-1], months=[m for b in blocks for m in b], warehouse=paths.warehouse,
        published=paths.published, dagster_home=dagster_home(out), run_ids=run_ids,
    )
    for i, (block, rid) in enumerate(zip(blocks, run_ids, strict=True)):
        loads_only = ingestion_only or i < len(blocks) - 1
        progress = RunProgress(run_id=rid, months=block, phases=plan(job, phases_by_step, loads_only),
                               step_phase=phases_by_step,
                               label=f"run {i + 1} of {len(blocks)}" if len(blocks) > 1 else "")
        with follow_run(lambda: open_instance(out), progress, on_progress or (lambda _: None)):
            result = job.execute_in_process(
                instance=instance,
                run_id=rid,
                tags={PARTITION_RANGE_START: block[0], PARTITION_RANGE_END: block[-1],
                      **({FULL_REFRESH_TAG: "true"} if full_refresh else {})},
                raise_on_error=False,
                run_config=_console_logging(verbose),
                asset_selection=[a.key for a in ingestion_assets] if loads_only else None,
            )
        report.success = report.success and result.success
        report.check_failures += failed_checks(result)
        for event in result.all_events:
            if event.is_step_failure:
                error = event.step_failure_data.error
                message = error.message.strip() if error else "failed"
                report.failures.append(f"{event.step_key}: {message}")
            elif event.is_step_materialization and event.asset_key is not None:
                report.materialized.append(event.asset_key.to_user_string())
        if not result.success:
            break  # a later stretch of months would build on a failed load
    return report


def unchanged_landing(con, landing_root: Path, config_version: str) -> bool:
    """True when a run over `landing_root` would load nothing and build nothing: the last build
    is complete, made from the same configuration and model code, from every batch version loaded
    now, and every batch folder of the landing folder holds exactly the version loaded (the same
    fingerprint). No refusal is pending either: a run would report it."""
    from assets import build_planner
    from assets.core.build_plan import NOOP, latest_plan
    from assets.ingestion.audit import batch_fingerprint
    from assets.ingestion.landing_scan import scan_landing

    state = build_planner.read_state(con)
    if state is None:
        return False
    now = build_planner.current(con, config_version)
    if build_planner.decide(state, now, latest_plan(con))[0] != NOOP:
        return False
    scan = scan_landing(landing_root)
    if scan.refusals:
        return False
    for ref in scan.batches:
        known = state.batches.get((ref.system, ref.entity, ref.batch))
        if known is None or batch_fingerprint(landing_root / ref.rel) != known:
            return False
    return True


def _nothing_changed(landing: Path, out: Path, settings_file: Path | None, run_id: str) -> bool:
    """Whether nothing changed since the last complete build; if so, record the NOOP plan."""
    warehouse = out / "warehouse.duckdb"
    if not warehouse.exists():
        return False
    import duckdb

    from assets.core.build_plan import NOOP, BuildPlan, write_plan

    settings = load_settings(settings_file)
    with duckdb.connect(str(warehouse), config=settings.warehouse.duckdb_config()) as con:
        if not unchanged_landing(con, landing, settings.version):
            return False
        write_plan(con, BuildPlan(run_id, NOOP, "nothing changed"), settings.version)
    return True


def _run_months(registered: list[str], wanted: Sequence[str] | None, landing: Path) -> list[str]:
    """The months the run loads: all registered ones, or exactly `wanted`."""
    wanted = sorted(set(wanted or ()))
    if not wanted:
        return registered
    unknown = [m for m in wanted if m not in registered]
    if unknown:
        raise MaterializeError(f"month(s) {', '.join(unknown)} neither in {landing} nor loaded before: "
                               f"the landing folder has {registered[0]} .. {registered[-1]}")
    return wanted


def _console_logging(verbose: bool) -> dict:
    """Dagster's console logger at INFO: the assets' own progress lines, not the event firehose."""
    return {"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}}}


PREPARED_STAMP = "strata_prepared.json"


def prepare_dbt(
    warehouse: Path | None = None, settings_file: Path | None = None, force: bool = False
) -> bool:
    """Build the dbt manifest unless it was built from exactly this project; True if it parsed.

    A changed dbt project is never run from a stale manifest: the parse reruns when any file of
    dbt_project/ (models, macros, tests, seeds, dbt_project.yml, profiles.yml), dbt's version, the
    vars or a STRATA_*/DBT_* environment variable changed since the last one (the fingerprint in
    target/strata_prepared.json), or when `force` (`strata prepare`). Otherwise the ~10-30 s of a
    `dbt parse` are saved.

    `warehouse` (a run's warehouse file) and `settings_file` make the parse see the same profile
    and vars as the run's `dbt build`: dbt reuses the saved parse (partial parsing) only when
    both are unchanged, and re-parses the whole project inside the run otherwise.
    """
    import hashlib
    import json
    import os
    from importlib.metadata import version

    from dagster_dbt import DagsterDbtProjectPreparer

    from assets.core.dbt import dbt_project, vars_arg
    from assets.core.engines import dbt_env, resolve_target

    settings = load_settings(settings_file)
    target = resolve_target()
    if warehouse is not None:
        os.environ.update(dbt_env(target, warehouse, warehouse.parent, settings.warehouse))
    args = ["parse", "--quiet", *vars_arg(settings), "--target", target]
    project_dir = Path(dbt_project.project_dir)
    digest = hashlib.sha256(json.dumps({
        "args": args, "dbt": version("dbt-core"), "dbt-duckdb": version("dbt-duckdb"),
        "env": sorted((k, v) for k, v in os.environ.items() if k.startswith(("STRATA_", "DBT_"))),
    }, sort_keys=True).encode())
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if path.is_file() and rel.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    fingerprint = digest.hexdigest()
    target = Path(dbt_project.manifest_path).parent
    stamp = target / PREPARED_STAMP
    if (not force and stamp.exists() and dbt_project.manifest_path.exists()
            and (target / "partial_parse.msgpack").exists()
            and json.loads(stamp.read_text()).get("fingerprint") == fingerprint):
        return False
    DagsterDbtProjectPreparer(prepare_project_cli_args=args).prepare(dbt_project)
    stamp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n")
    return True

"""`strata materialize`: run the whole Dagster asset graph over a landing folder.

The run goes through the same `Definitions` that `dagster dev` loads (`build_definitions`), on a
persistent Dagster instance in `<out>/dagster_home`, so the Dagster UI can show what it did
(`DAGSTER_HOME=<out>/dagster_home dagster dev -w workspace.yaml`). One run loads a range of the
`month` partitions, then runs dbt, the checks and publishing: on a new output folder (or with
`--full-refresh`) every month of the landing folder; on a warehouse that has loaded it before, the
months from the oldest to the newest batch that changed (`run_scope`), so a corrected batch or a
new month costs its own months in Dagster, not the whole history. The landing folder is checked first
(orchestration/preflight.py), before anything is imported or built: its layout, then that every
batch month is a month partition (from the configured first month to the open month).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assets.core.build_plan import FULL_REFRESH_TAG
from assets.core.resources import paths_from_env
from assets.core.settings import DEFAULT_CONFIG_FILE, load_settings
from orchestration.dagster_instances import dagster_home, open_instance
from orchestration.dagster_instances.wal import kept_open
from orchestration.preflight import MaterializeError, check_landing, check_months, contiguous_blocks
from orchestration.prepare import PREPARED_STAMP, prepare_dbt, start_run_parse
from quality.summary import FailedChecks, failed_checks

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"

__all__ = ["PREPARED_STAMP", "MaterializeError", "RunReport", "materialize", "open_instance", "prepare_dbt"]


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
    interrupted: bool = False  # SIGINT or SIGTERM ended the run (Dagster marks it failed)


def materialize(landing: Path, out: Path, config_file: Path | None = None, verbose: bool = False,
                months: Sequence[str] | None = None, run_id: str | None = None,
                on_progress: Callable | None = None, full_refresh: bool = False,
                ingestion_only: bool = False) -> RunReport:
    """Materialise every asset over the months of `landing` that changed (every month on a new
    output folder or with `full_refresh`; `run_scope`), writing under `out`.

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
    settings = load_settings(settings_file)  # refuse an invalid configuration before anything runs
    check_months(landing, settings.partitions.first_month, settings_file or DEFAULT_CONFIG_FILE)
    out.mkdir(parents=True, exist_ok=True)
    run_id = run_id or str(uuid.uuid4())
    scope = RunScope() if months or full_refresh else run_scope(landing, out, settings_file, run_id)
    if scope.nothing_changed:
        return RunReport(success=True, run_id=run_id, months=[], warehouse=out / "warehouse.duckdb",
                         published=out / "published", dagster_home=dagster_home(out),
                         run_ids=[run_id], nothing_changed=True)

    # Its folders and configuration; the runtime settings (PostgreSQL, the engine, ...) from the
    # environment, as the code location's.
    paths = paths_from_env(landing_dir=str(landing), out_dir=str(out),
                           config_file=str(settings_file or DEFAULT_CONFIG_FILE))
    from assets.core.engines import require_adapter

    require_adapter(paths.target)
    prepare_dbt(settings_file=settings_file)
    # The output folder's own dbt parse runs beside the batches' load; the first dbt step waits for it.
    run_parse = start_run_parse(paths.target, paths.warehouse, settings)
    from assets.ingestion.assets import INGESTION_KEYS  # heavy imports only when running
    from assets.ingestion.landing_scan import scan_landing
    from orchestration.definitions import build_definitions
    from orchestration.run_events import RunProgress, follow_run, plan, step_phases

    instance = open_instance(out)
    # A run whose process was killed still holds the warehouse pool slot: free it (recovery.py).
    from orchestration.recovery import release_dead_runs

    release_dead_runs(instance)
    known = scan_landing(landing).months
    if not known:
        raise MaterializeError(
            f"no batches found in {landing}: expected <system>/<entity>/<YYYY-MM>/ folders "
            "(see the landing contract, docs/landing-contract.md)"
        )
    known = sorted(set(known) | _loaded_before(instance, INGESTION_KEYS, set(months or ()) - set(known)))
    blocks = contiguous_blocks(_run_months(known, months, landing) if months else scope.over(known), known)
    defs = build_definitions(paths, settings)
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
        with (kept_open(dagster_home(out), rid),
              follow_run(lambda: open_instance(out), progress, on_progress or (lambda _: None))):
            result = job.execute_in_process(
                instance=instance,
                run_id=rid,
                tags={PARTITION_RANGE_START: block[0], PARTITION_RANGE_END: block[-1],
                      **({FULL_REFRESH_TAG: "true"} if full_refresh else {})},
                raise_on_error=False,
                run_config=_console_logging(verbose),
                asset_selection=INGESTION_KEYS if loads_only else None,
            )
        report.success = report.success and result.success
        if was_interrupted(result):
            report.interrupted = True
            # a step interrupted outside dbt's output reader never stops its dbt (assets/core/dbt.py)
            from assets.core.dbt import stop_running_dbt

            stop_running_dbt()
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
    run_parse.join()  # a run that built nothing (loads only) leaves no dbt parse half-done
    return report


def was_interrupted(result) -> bool:
    """Whether an interrupt ended the run: a step or the run failed with Dagster's interrupt error.
    (execute_in_process does not raise it: it records the step's failure and the run's, and returns.)"""
    import dagster as dg

    from orchestration.run_events import INTERRUPTS

    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
        else:
            continue
        if error is not None and error.cls_name in INTERRUPTS:
            return True
    return False


def unchanged_landing(con, landing_root: Path, config_version: str) -> bool:
    """True when a run over `landing_root` would load nothing and build nothing: the last build
    is complete, made from the same configuration and model code, from every batch version loaded
    now, and every batch folder of the landing folder holds exactly the version loaded (the same
    fingerprint). No refusal is pending either: a run would report it."""
    return build_is_current(con, config_version) and changed_months(con, landing_root) == []


def build_is_current(con, config_version: str) -> bool:
    """The last build is complete, from the same configuration and model code, from every batch
    version loaded now."""
    from assets import build_planner
    from assets.core.build_plan import NOOP, latest_plan

    state = build_planner.read_state(con)
    if state is None:
        return False
    now = build_planner.current(con, config_version)
    return build_planner.decide(state, now, latest_plan(con))[0] == NOOP


def changed_months(con, landing_root: Path) -> list[str] | None:
    """The months of the landing folder's batches that hold a version not loaded (new, re-delivered,
    corrected, or refused before); None when the folder has refusals of its own, which belong to no
    month (a run over every month reports them)."""
    from assets import build_planner
    from assets.ingestion.audit import FileHashes, batch_fingerprint
    from assets.ingestion.landing_scan import scan_landing

    scan = scan_landing(landing_root)
    if scan.refusals:
        return None
    loaded = build_planner.loaded_batches(con)
    hashes = FileHashes(con)

    def changed(ref) -> bool:
        batch_dir = landing_root / ref.rel
        try:
            fingerprint = batch_fingerprint(batch_dir, hashes.of_batch(batch_dir))
            return loaded.get((ref.system, ref.entity, ref.batch)) != fingerprint
        except OSError:  # unreadable: the run loads it and says why it cannot
            return True

    months = sorted({ref.batch for ref in scan.batches if changed(ref)})
    hashes.save()
    return months


@dataclass(frozen=True)
class RunScope:
    """What a plain `strata materialize` runs over: nothing (nothing changed), or the months from the
    oldest to the newest changed batch (`changed`; empty: the newest month, for a build that must be
    redone with nothing new to load), or every month (`changed` None)."""

    nothing_changed: bool = False
    changed: list[str] | None = None

    def over(self, known: list[str]) -> list[str]:
        """The run's months among the `known` ones (every month of the landing folder, in order)."""
        if self.changed is None:
            return known
        if not self.changed:
            return known[-1:]
        return [m for m in known if self.changed[0] <= m <= self.changed[-1]]


def run_scope(landing: Path, out: Path, settings_file: Path | None, run_id: str) -> RunScope:
    """What this run covers (docs/incremental.md). Every month while nothing is built or published
    yet; nothing (and a NOOP plan recorded) when nothing changed since the last complete build;
    else the changed months. A run over fewer month partitions writes fewer Dagster events and runs
    the ingestion checks on the batches it loaded; the dbt build plans its months from the warehouse
    whatever the run's range."""
    warehouse = out / "warehouse.duckdb"
    if not warehouse.exists():
        return RunScope()
    import duckdb

    from assets.core.build_plan import NOOP, BuildPlan, write_plan
    from assets.publishing import PublishError, open_published
    from assets.publishing.months import publication_caught_up

    settings = load_settings(settings_file)
    try:
        manifest = open_published(out).manifest
    except PublishError:  # nothing published yet: the run publishes
        return RunScope()
    try:
        con = duckdb.connect(str(warehouse), config=settings.warehouse.duckdb_config())
    except duckdb.IOException:  # another process holds the warehouse: the run's steps wait for it
        return RunScope()
    with con:
        changed = changed_months(con, landing)
        # A build whose publication failed is not "nothing changed": the run publishes it.
        if changed == [] and build_is_current(con, settings.version) and publication_caught_up(con, manifest):
            write_plan(con, BuildPlan(run_id, NOOP, "nothing changed"), settings.version)
            return RunScope(nothing_changed=True)
        return RunScope(changed=changed)


def _loaded_before(instance, keys, months: set[str]) -> set[str]:
    """Which of `months` (absent from the landing folder) some ingestion asset has loaded before:
    a run may reload such a month (its rows stay in the warehouse) and rebuild on it."""
    import dagster as dg

    def loaded(key, month: str) -> bool:
        records_filter = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[month])
        return bool(instance.fetch_materializations(records_filter, limit=1).records)

    return {m for m in months if any(loaded(key, m) for key in keys)}


def _run_months(known: list[str], wanted: Sequence[str] | None, landing: Path) -> list[str]:
    """The months the run loads: all known ones (in the landing folder or loaded before), or exactly
    `wanted`."""
    wanted = sorted(set(wanted or ()))
    if not wanted:
        return known
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise MaterializeError(f"month(s) {', '.join(unknown)} neither in {landing} nor loaded before: "
                               f"the landing folder has {known[0]} .. {known[-1]}")
    return wanted


def _console_logging(verbose: bool) -> dict:
    """Dagster's console logger at INFO: the assets' own progress lines, not the event firehose."""
    return {"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}}}

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

from assets.core.resources import StrataPaths
from assets.core.settings import load_settings
from orchestration.dagster_instances import dagster_home, open_instance
from orchestration.preflight import MaterializeError, check_landing, contiguous_blocks
from orchestration.prepare import PREPARED_STAMP, prepare_dbt
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


def materialize(landing: Path, out: Path, config_file: Path | None = None, verbose: bool = False,
                months: Sequence[str] | None = None, run_id: str | None = None,
                on_progress: Callable | None = None) -> RunReport:
    """Materialise every asset for every month in `landing`, writing under `out`.

    `months` (optional) loads only those months' batches, exactly: one run per stretch of
    consecutive months, the ingestion assets alone for all but the last, whose run also builds dbt,
    the checks and publishing as always. `run_id` names the (last) run; `on_progress` receives an
    `orchestration.run_events.RunProgress` after every change while a run executes.
    """
    landing, out = Path(landing).resolve(), Path(out).resolve()
    check_landing(landing)  # cheap: before any Dagster or dbt work
    settings_file = Path(config_file).resolve() if config_file else None
    load_settings(settings_file)  # refuse an invalid configuration before anything runs
    out.mkdir(parents=True, exist_ok=True)

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
    run_ids = [str(uuid.uuid4()) for _ in blocks[:-1]] + [run_id or str(uuid.uuid4())]
    report = RunReport(
        success=True, run_id=run_ids[-1], months=[m for b in blocks for m in b], warehouse=paths.warehouse,
        published=paths.published, dagster_home=dagster_home(out), run_ids=run_ids,
    )
    for i, (block, rid) in enumerate(zip(blocks, run_ids, strict=True)):
        last = i == len(blocks) - 1
        progress = RunProgress(run_id=rid, months=block, phases=plan(job, phases_by_step, not last),
                               step_phase=phases_by_step,
                               label=f"run {i + 1} of {len(blocks)}" if len(blocks) > 1 else "")
        with follow_run(lambda: open_instance(out), progress, on_progress or (lambda _: None)):
            result = job.execute_in_process(
                instance=instance,
                run_id=rid,
                tags={PARTITION_RANGE_START: block[0], PARTITION_RANGE_END: block[-1]},
                raise_on_error=False,
                run_config=_console_logging(verbose),
                asset_selection=None if last else [a.key for a in ingestion_assets],
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

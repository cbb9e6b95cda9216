"""`strata materialize`: run the whole Dagster asset graph over a landing folder.

The run goes through the same `Definitions` that `dagster dev` loads (`build_definitions`), on a
persistent Dagster instance in `<out>/dagster_home`, so the Dagster UI can show what it did
(`DAGSTER_HOME=<out>/dagster_home dagster dev -w workspace.yaml`). All months present in the
landing folder are loaded in one run (a partition range), then dbt, the checks and publishing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef  # public API has no from-folder constructor

from orchestration.resources import StrataPaths
from orchestration.settings import load_settings

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


class MaterializeError(RuntimeError):
    """The run could not start, or finished with failures; the message says what and where."""


@dataclass
class RunReport:
    success: bool
    run_id: str
    months: list[str]
    warehouse: Path
    published: Path
    dagster_home: Path
    failures: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)


def dagster_home(out: Path) -> Path:
    return out / "dagster_home"


def open_instance(out: Path) -> dg.DagsterInstance:
    """The persistent instance kept beside the warehouse (runs, events, dynamic partitions)."""
    from orchestration.dagster_instances import install

    home = dagster_home(out)
    # orchestration/dagster_instances/local/dagster.yaml (unless the folder has its own): telemetry
    # off, one writer of the warehouse at a time (pool warehouse_writer), run monitoring.
    install(home)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def materialize(landing: Path, out: Path, config_file: Path | None = None, verbose: bool = False) -> RunReport:
    """Materialise every asset for every month in `landing`, writing under `out`."""
    prepare_dbt()
    from assets.ingestion.assets import register_months  # heavy imports only when running
    from orchestration.definitions import build_definitions

    landing, out = Path(landing).resolve(), Path(out).resolve()
    if not landing.is_dir():
        raise MaterializeError(f"landing folder {landing} does not exist or is not a folder")
    settings_file = Path(config_file).resolve() if config_file else None
    load_settings(settings_file)  # refuse an invalid configuration before anything runs
    out.mkdir(parents=True, exist_ok=True)

    paths = StrataPaths(landing_dir=str(landing), out_dir=str(out),
                        **({"config_file": str(settings_file)} if settings_file else {}))
    instance = open_instance(out)
    # A run whose process was killed still holds the warehouse pool slot: free it (recovery.py).
    from orchestration.recovery import release_dead_runs

    release_dead_runs(instance)
    months = register_months(instance, landing)
    if not months:
        raise MaterializeError(
            f"no batches found in {landing}: expected <system>/<entity>/<YYYY-MM>/ folders "
            "(see the landing contract, shared/spec/extracts.md)"
        )
    job = build_definitions(paths).resolve_job_def("materialize_all")
    result = job.execute_in_process(
        instance=instance,
        tags={PARTITION_RANGE_START: months[0], PARTITION_RANGE_END: months[-1]},
        raise_on_error=False,
        run_config=_console_logging(verbose),
    )
    report = RunReport(
        success=result.success, run_id=result.run_id, months=months, warehouse=paths.warehouse,
        published=paths.published, dagster_home=dagster_home(out),
    )
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "failed"
            report.failures.append(f"{event.step_key}: {message}")
        elif event.is_step_materialization and event.asset_key is not None:
            report.materialized.append(event.asset_key.to_user_string())
    return report


def _console_logging(verbose: bool) -> dict:
    """Dagster's console logger at INFO: the assets' own progress lines, not the event firehose."""
    return {"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}}}


def prepare_dbt() -> None:
    """(Re)build the dbt manifest, so a changed dbt project is never run from a stale one."""
    from orchestration.dbt import dbt_project

    dbt_project.preparer.prepare(dbt_project)

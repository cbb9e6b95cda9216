"""The scenario jobs `scenario_run` and `scenario_drop`: launched from the Dagster UI or by `strata scenario`.

A person opens the job's launchpad and gives the scenario as run configuration, e.g.

    ops:
      scenario:
        config:
          name: phone_3x
          config_yaml: |          # the whole scenario file (or config_file: /path/to/file.yml)
            currency: {lcy: USD}
            ...
          month: "2026-10"        # optional: the newest segment month by default

Production's configuration is the `paths` resource's (STRATA_CONFIG). The step is in the
`warehouse_writer` pool and the run carries the one-writer run tag, like every run that writes the
warehouse: a scenario waits for the nightly run, and the nightly run waits for it.
"""

from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths, paths_from_env
from assets.core.settings import DEFAULT_CONFIG_FILE, ConfigError
from assets.scenarios.plan import ScenarioError
from orchestration.jobs import MAX_RUNTIME_TAG, PURPOSE_TAG, WAREHOUSE_TAG

HOUR = 3600


class ScenarioRunConfig(dg.Config):
    name: str = Field(description="The scenario's name: lower-case letters, digits, underscores.")
    config_yaml: str | None = Field(default=None, description="The scenario's configuration file's content.")
    config_file: str | None = Field(default=None, description="Or the path of the scenario's file.")
    month: str | None = Field(default=None, description="YYYY-MM; default: the newest segment month.")
    rebuild_all: bool = Field(
        default=False, description="Recompute every model that reads any setting (a check of the machinery)."
    )


class ScenarioDropConfig(dg.Config):
    name: str


def _refuse(exc: Exception) -> dg.Failure:
    # A refused name, file or month fails the same way on every try: no retry.
    return dg.Failure(description=str(exc))


@dg.op(name="scenario", pool=WAREHOUSE_WRITER_POOL)
def scenario_op(context: dg.OpExecutionContext, config: ScenarioRunConfig, paths: StrataPaths) -> dg.Output:
    from assets.publishing.postgres import PostgresTarget
    from assets.scenarios.run import load_scenario_config, run_scenario

    try:
        production = paths.settings()
        scenario = load_scenario_config(
            config.name,
            paths.out,
            text=config.config_yaml,
            file=Path(config.config_file) if config.config_file else None,
        )
        result = run_scenario(
            paths.out,
            config.name,
            scenario,
            production,
            month=config.month,
            rebuild_all=config.rebuild_all,
            run_id=context.run_id,
            log=context.log.info,
            postgres=PostgresTarget.of(paths),
        )
    except (ScenarioError, ConfigError) as exc:
        raise _refuse(exc) from None
    return dg.Output(
        str(result.folder),
        metadata={
            "folder": dg.MetadataValue.path(str(result.folder)),
            "report": dg.MetadataValue.path(str(result.folder / "report" / "index.html")),
            "month": f"{result.month:%Y-%m}",
            "changed_settings": dg.MetadataValue.json(result.changed),
            "models_rebuilt": len(result.rebuilt),
            "customers_changed": result.customers_changed,
            "rows": dg.MetadataValue.json(result.rows),
            "seconds": dg.MetadataValue.json({k: round(v, 1) for k, v in result.seconds.items()}),
            "postgres": result.postgres or "not configured",
        },
    )


@dg.op(name="drop", pool=WAREHOUSE_WRITER_POOL)
def scenario_drop_op(
    context: dg.OpExecutionContext, config: ScenarioDropConfig, paths: StrataPaths
) -> list[str]:
    from assets.publishing.postgres import PostgresTarget
    from assets.scenarios.run import drop_scenario

    try:
        return drop_scenario(paths.out, config.name, log=context.log.info, postgres=PostgresTarget.of(paths))
    except ScenarioError as exc:
        raise _refuse(exc) from None


def _tags(purpose: str) -> dict[str, str]:
    return {PURPOSE_TAG: purpose, **WAREHOUSE_TAG, MAX_RUNTIME_TAG: str(2 * HOUR)}


@dg.job(
    name="scenario_run",
    tags=_tags("scenario_run"),
    executor_def=dg.in_process_executor,
    description="What-if: recompute what a scenario configuration changes into its own schemas, compare "
    "it with production's marts and publish scenario_customers, scenario_migrations, scenario_segments "
    "and a report under <out>/scenarios/<name>/ (docs/scenarios.md). Production is never changed.",
)
def scenario_run():
    scenario_op()


@dg.job(
    name="scenario_drop",
    tags=_tags("scenario_drop"),
    executor_def=dg.in_process_executor,
    description="Remove a scenario: its warehouse schemas, its folder and its PostgreSQL rows.",
)
def scenario_drop():
    scenario_drop_op()


SCENARIO_JOBS = [scenario_run, scenario_drop]


def execute(
    out: Path, job_name: str, op_config: dict, production_config: Path | None
) -> dg.ExecuteInProcessResult:
    """Run a scenario job in this process on `<out>`'s Dagster instance (what `strata scenario` does).

    The instance is the one `strata materialize` uses, so the step waits for the warehouse_writer
    slot like every other writer, and the run shows in the UI.
    """
    from orchestration.recovery import release_dead_runs
    from orchestration.runner import open_instance

    out = Path(out).resolve()
    paths = paths_from_env(  # the PostgreSQL target and the rest from the environment
        landing_dir="",
        out_dir=str(out),
        config_file=str(Path(production_config).resolve() if production_config else DEFAULT_CONFIG_FILE),
    )
    instance = open_instance(out)
    release_dead_runs(instance)
    job = dg.Definitions(jobs=SCENARIO_JOBS, resources={"paths": paths}).resolve_job_def(job_name)
    op = "scenario" if job_name == "scenario_run" else "drop"
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={
            "ops": {op: {"config": op_config}},
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
    )

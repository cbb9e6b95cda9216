"""The dbt project as Dagster sees it: the project object, the translator and the CLI arguments.

The manifest is built ahead of time (`strata prepare`, or `dagster dev`'s `prepare_if_dev`), never
by parsing at import. The CLI arguments are small pure functions so tests can check them.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtProject
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets.core.build_plan import BuildPlan
from assets.core.retries import Transient, names_transient
from assets.core.settings import Settings, load_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# Models under these folders of dbt_project/models form these Dagster asset groups.
GROUP_BY_FOLDER = {"segments": "segments"}
DEFAULT_GROUP = "finance"

# The environment variable that passes a build plan's months to dbt (plan_env).
BUILD_PLAN_ENV = "STRATA_BUILD_PLAN"


def vars_arg(settings: Settings) -> list[str]:
    """`--vars` for dbt: the whole validated configuration and its version."""
    return ["--vars", json.dumps(settings.dbt_vars(), sort_keys=True, separators=(",", ":"))]


def build_args(settings: Settings, plan: BuildPlan | None = None) -> list[str]:
    """The arguments of the one `dbt build` that materialises the selected models and their tests.

    dbt unit tests check the SQL, not the data: the test suite's builds of its fixtures run them
    (tests/support/warehouse.py), a production run does not pay for them. Without a plan, or with a
    FULL one, every model is rebuilt from scratch (`--full-refresh`); an INCREMENTAL or NOOP plan
    recomputes its months of the models partitioned by month (`plan_env`, docs/incremental.md).
    """
    refresh = ["--full-refresh"] if plan is None or plan.is_full else []
    return ["build", "--exclude-resource-type", "unit_test", *refresh, *vars_arg(settings)]


def plan_env(plan: BuildPlan | None) -> dict[str, str]:
    """The plan's months for macros/incremental.sql, as the environment variable it reads.

    Not a dbt var: dbt re-parses the whole project when `--vars` change (10-30 s), and the months
    change with every run. The macro reads the variable only while executing, never while parsing,
    so dbt's saved parse stays valid. Empty for a full build.
    """
    if plan is None or plan.is_full:
        return {BUILD_PLAN_ENV: ""}
    months = {layer: sorted(m.isoformat() for m in plan.months(layer)) for layer in plan.layers}
    return {BUILD_PLAN_ENV: json.dumps(months, separators=(",", ":"))}


@cache
def dbt_project() -> DbtProject:
    """The dbt project, built once per process when first asked for (importing this module does nothing).

    Under `dagster dev` it also parses the project (`prepare_if_dev`); elsewhere the manifest is
    built ahead of time (`strata prepare`, or `strata materialize`'s own check).
    """
    # dagster-dbt runs `dbt` from PATH. Started as `.venv/bin/strata` (not `uv run`), the venv's bin
    # folder may not be on PATH; dbt is installed beside this interpreter, so put that folder first.
    if shutil.which("dbt") is None:
        os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        # Parsing needs the vars, or every model that reads the configuration fails to render.
        prepare_project_cli_args=["parse", "--quiet", *vars_arg(load_settings())],
    )
    project.prepare_if_dev()
    return project


class StrataDbtTranslator(DagsterDbtTranslator):
    """Groups models by folder (finance, segments) and keys sources as [system, entity].

    dagster-dbt keys a source as [source_name, table]; our sources are named after the system and
    their tables after the entity, which is exactly the ingestion assets' key, so the lineage
    joins without any mapping table.
    """

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props.get("resource_type") != "model":
            return spec
        folders = props.get("fqn", [])[1:-1]
        group = next((GROUP_BY_FOLDER[f] for f in folders if f in GROUP_BY_FOLDER), DEFAULT_GROUP)
        layer = folders[0] if folders else "models"
        return spec.replace_attributes(
            group_name=group,
            owners=["team:data-engineering"],
            tags={**spec.tags, "layer": layer},
        )


def manifest_ready() -> bool:
    return dbt_project().manifest_path.exists()


def require_manifest() -> Path:
    if not manifest_ready():
        raise dg.DagsterInvariantViolationError(
            f"The dbt manifest {dbt_project().manifest_path} is missing. Run `strata prepare` "
            "(or `uv run strata prepare`) once after installing or changing the dbt project."
        )
    return dbt_project().manifest_path


# A run builds the dbt graph in two steps around the predicted-value fit (assets/clv: Dagster splits
# this subsettable multi-asset around it): each step runs the tests whose parents are all built by it
# or before it. dbt's default (eager) would also run, in the first step, a test that reads a model
# of the second step before it is built. dagster-dbt reads this variable when it selects a subset.
INDIRECT_SELECTION = {"DBT_INDIRECT_SELECTION": "buildable"}

def target_args(target: str) -> list[str]:
    """The profile output dbt runs with (dbt_project/profiles.yml: duckdb or spark)."""
    return ["--target", target]


def failed_build(err: DagsterDbtCliRuntimeError) -> Exception:
    """A failed `dbt build` as the step should raise it.

    A locked warehouse (or a full disk) is transient: the step's `transient_retries`
    (assets/core/retries.py) waits it out. Anything else (a model error, a failing blocking test, a
    missing FX rate, memory) fails the same way on every try, so it fails the step.
    """
    if names_transient(str(err)):
        return Transient(str(err))
    return dg.Failure(description=str(err))


# The dbt processes of this process's steps that may still run, each with the time it is given to
# stop after SIGINT (its invocation's); removed once it has ended.
_RUNNING: dict[subprocess.Popen, float] = {}


@contextmanager
def stopped_on_exit(invocation: DbtCliInvocation) -> Iterator[DbtCliInvocation]:
    """Run the body with `invocation`'s dbt process registered, and make sure it has ended after.

    dagster-dbt stops dbt (SIGINT, then waits) only when Dagster's interrupt is raised inside its
    stdout reader. Dagster raises it wherever the step happens to be: often while it stores an event
    the step yielded, outside that reader. Then the step's generator is never resumed and dbt, a
    child process, would go on writing the warehouse after the run has failed, even after this
    process has exited. Ending the body, `stop_running_dbt` or this process's exit stops it instead.
    """
    atexit.unregister(stop_running_dbt)  # registered once: a run worker (daemon, UI) exits after
    atexit.register(stop_running_dbt)  # its interrupted run without resuming the step
    _RUNNING[invocation.process] = invocation.termination_timeout_seconds
    try:
        yield invocation
    finally:
        _stop(invocation.process)


def stop_running_dbt() -> list[int]:
    """Stop every dbt process a step of this process started and that still runs (after an
    interrupted run, whose step generators may never be closed); the pids that had to be stopped."""
    stopped = [p.pid for p in _RUNNING if p.poll() is None]
    for process in list(_RUNNING):
        _stop(process)
    return stopped


def _stop(process: subprocess.Popen) -> None:
    """SIGINT (dbt cancels its queries and exits), then SIGKILL if it has not ended in time."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=_RUNNING.get(process, 0))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        _RUNNING.pop(process, None)

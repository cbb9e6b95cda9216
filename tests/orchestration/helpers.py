"""Helpers of the orchestration tests: real Dagster instances, real landing folders, real locks."""

from __future__ import annotations

import calendar
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from assets.core.resources import StrataPaths
from assets.core.settings import DEFAULT_CONFIG_FILE
from orchestration.dagster_instances import install
from orchestration.generator.landing import write_batch

PYTHON = sys.executable
DEMO_CUSTOMERS, DEMO_MONTHS, DEMO_END = 20, 14, "2026-10"


def strata_paths(landing: Path, out: Path, config: Path | None = None, **settings) -> StrataPaths:
    """A `paths` resource with the given folders, configuration file and runtime `settings`."""
    if config:
        settings["config_file"] = str(config)
    return StrataPaths(landing_dir=str(landing), out_dir=str(out), **settings)


def build_defs(landing: Path, out: Path, config: Path | None = None, **settings) -> tuple[dg.Definitions, StrataPaths]:
    """The definitions on a `paths` resource with the given folders, configuration and runtime `settings`."""
    from orchestration.definitions import build_definitions

    paths = strata_paths(landing, out, config, **settings)
    return build_definitions(paths), paths


def config_from(folder: Path, first_month: str) -> Path:
    """The default configuration with the month partitions starting at `first_month`."""
    raw = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    raw["partitions"]["first_month"] = first_month
    path = folder / f"strata-from-{first_month}.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def step_retry_policy(job: dg.JobDefinition, step: str) -> dg.RetryPolicy | None:
    """The retry policy Dagster applies to a top-level step of `job`: the one set where its op is
    invoked, else the op's own, else the job's (`op_retry_policy`)."""
    node = job.graph.node_dict[step]
    return node.retry_policy or node.definition.retry_policy or job.op_retry_policy


def local_instance(home: Path) -> dg.DagsterInstance:
    """A persistent instance in `home` with the local configuration strata ships."""
    install(home)
    return dg.DagsterInstance.local_temp(tempdir=str(home))


def month_end(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def write_fx(root: Path, month: str, rate: str = "1.10") -> Path:
    """A small valid erp/fx_rates batch (with its manifest)."""
    rows = [{"period_end": month_end(month), "currency": "EUR", "rate_to_lcy": rate},
            {"period_end": month_end(month), "currency": "GBP", "rate_to_lcy": "1.25"}]
    return write_batch(root, "erp", "fx_rates", month, rows)


def write_empty(root: Path, system: str, entity: str, month: str) -> Path:
    """A header-only batch: a valid delivery of no rows."""
    return write_batch(root, system, entity, month, [])


class WarehouseLock:
    """Another process holding warehouse.duckdb open read-write (DuckDB's exclusive file lock)."""

    def __init__(self, warehouse: Path, seconds: float):
        self.warehouse, self.seconds = warehouse, seconds
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> WarehouseLock:
        code = ("import duckdb, sys, time\n"
                "con = duckdb.connect(sys.argv[1])\n"
                "print('locked', flush=True)\n"
                "time.sleep(float(sys.argv[2]))\n"
                "con.close()\n"
                "print('released', flush=True)\n")
        self.proc = subprocess.Popen([PYTHON, "-c", code, str(self.warehouse), str(self.seconds)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line == "locked", f"the lock holder did not start: {line!r}"
        return self

    def wait(self, timeout: float = 60) -> None:
        assert self.proc is not None
        self.proc.wait(timeout=timeout)

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def rerun_month_job() -> dg.JobDefinition:
    """`rerun_month` for the folders named by STRATA_LANDING / STRATA_OUT (for `dg.reconstructable`)."""
    from assets.core.resources import paths_from_env, settings_from_env
    from orchestration.definitions import build_definitions

    return build_definitions(paths_from_env(), settings_from_env()).resolve_job_def("rerun_month")

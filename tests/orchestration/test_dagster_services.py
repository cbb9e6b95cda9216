"""The real services: `dagster-daemon` and `dagster-webserver` on workspace.yaml, driven over GraphQL.

One small demo history (20 customers, 14 months) per session, in a Dagster home with the local
instance configuration strata ships. Through the webserver's GraphQL API (what the UI does):

- a backfill of `backfill_history` over all partitions (the demo's first month to the open month)
  completes as ONE run (one dbt build);
- the asset graph and the latest materialisations are served;
- two runs launched together are queued one after the other by the daemon and both succeed, with
  no lock error and no retry.

The services run on a snapshot of the code (this checkout's packages, dbt project and its prepared
manifest, copied to a temporary folder): in a checkout shared with other work, `strata prepare` or
another test session rewrites dbt_project/target/manifest.json at any moment, and a run worker that
reads it half-written cannot load the definitions.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from assets.core.contract import entities
from assets.core.partitions import month_keys
from tests.orchestration.helpers import config_from, local_instance

pytestmark = pytest.mark.slow
DEMO_FIRST = "2025-09"  # the demo history's first month (demo_landing: 14 months to 2026-10)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCATION = "orchestration.definitions:defs"
REPOSITORY = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


PACKAGES = ("orchestration", "assets", "quality", "dbt_project")
FILES = ("workspace.yaml", "pyproject.toml")


def snapshot_code(dest: Path) -> Path:
    """Copy the code the services load (and a complete dbt manifest) to `dest`."""
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.pyc", ".pytest_cache")
    for name in PACKAGES:
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in FILES:
        shutil.copy2(REPO / name, dest / name)
    manifest = REPO / "dbt_project" / "target" / "manifest.json"
    for _ in range(60):  # another session may be rewriting it: take a complete one
        data = manifest.read_bytes()
        try:
            json.loads(data)
            break
        except ValueError:
            time.sleep(1)
    else:
        raise AssertionError(f"{manifest} stayed incomplete for a minute")
    (dest / "dbt_project" / "target").mkdir()
    (dest / "dbt_project" / "target" / "manifest.json").write_bytes(data)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Services:
    home: Path
    landing: Path
    out: Path
    port: int
    logs: Path
    code: Path
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, cmd: list[str]) -> None:
        """Start a service in its own process group, its output in `<logs>/<name>.log`."""
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(
            cmd, cwd=self.code, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True))

    def gql(self, query: str, variables: dict | None = None, timeout: float = 120) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read())
        assert "errors" not in data, data["errors"]
        return data["data"]

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.local_temp(tempdir=str(self.home))

    def runs(self, run_filter: dict) -> list[dict]:
        data = self.gql("""query($f: RunsFilter) { runsOrError(filter: $f) { __typename
            ... on Runs { results { runId jobName status startTime endTime tags { key value } } } } }""",
                        {"f": run_filter})
        return data["runsOrError"]["results"]

    def wait_for_runs(self, run_filter: dict, count: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs(run_filter)
            if len(runs) >= count and all(r["status"] in TERMINAL for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise AssertionError(f"runs not finished after {timeout} s: {runs}\n{self.tail()}")
            time.sleep(3)

    def tail(self, chars: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                         for p in self.logs.glob("*.log"))


def wait_until_loaded(services: Services, timeout: float = 400) -> None:
    """The webserver answers and has loaded the code location."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for proc in services.procs:
            assert proc.poll() is None, f"{proc.args[0]} exited\n{services.tail()}"
        try:
            data = services.gql("{ repositoriesOrError { __typename "
                                "... on RepositoryConnection { nodes { name } } } }", timeout=30)
            if data["repositoriesOrError"]["__typename"] == "RepositoryConnection" and \
                    data["repositoriesOrError"]["nodes"]:
                return
            last = data
        except OSError as exc:
            last = exc
        time.sleep(2)
    raise AssertionError(f"the webserver did not load {LOCATION}: {last}\n{services.tail()}")


def stop(procs: list[subprocess.Popen]) -> None:
    """Stop the services we started (each its own process group: the code servers go with it)."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def services(demo_landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("services")
    out, home, logs = root / "out", root / "out" / "dagster_home", root / "logs"
    logs.mkdir()
    code = snapshot_code(root / "code")
    local_instance(home).dispose()  # the configuration `strata materialize` installs
    env = {k: v for k, v in os.environ.items()
           if k not in ("STRATA_ALERT_WEBHOOK_URL", "STRATA_POSTGRES_URL", "STRATA_CONFIG")}
    # the month partitions start at the demo's first month (through the open month)
    env.update(DAGSTER_HOME=str(home), STRATA_LANDING=str(demo_landing), STRATA_OUT=str(out),
               STRATA_CONFIG=str(config_from(root, DEMO_FIRST)), DAGSTER_TELEMETRY_DISABLED="1")
    services = Services(home=home, landing=demo_landing, out=out, port=free_port(), logs=logs,
                        code=code, env=env)
    try:
        # The daemon starts with the backfill (below): its backfill loop ticks every 30 s, the first
        # tick when it starts, so a backfill that is already there is picked up at once.
        services.start("webserver", [str(BIN / "dagster-webserver"), "-w", "workspace.yaml",
                                     "-h", "127.0.0.1", "-p", str(services.port)])
        wait_until_loaded(services)
        yield services
    finally:
        stop(services.procs)


@pytest.fixture(scope="module")
def backfill(services) -> dict:
    """A backfill of `backfill_history` over every partition, launched as the UI does."""
    data = services.gql("""mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
        __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
                        {"p": {"selector": {"partitionSetName": "backfill_history_partition_set",
                                            "repositorySelector": REPOSITORY},
                               "allPartitions": True, "title": "all history"}})
    launched = data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    services.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])
    backfill_id = launched["backfillId"]
    by_backfill = {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}
    runs = services.wait_for_runs(by_backfill, 1, timeout=1200)
    deadline = time.monotonic() + 120
    while True:
        status = services.gql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) {
            ... on PartitionBackfill { status numPartitions } } }""", {"id": backfill_id})
        status = status["partitionBackfillOrError"]
        if status["status"] != "REQUESTED" or time.monotonic() > deadline:
            break
        time.sleep(3)
    return {"id": backfill_id, "status": status, "runs": services.runs(by_backfill) or runs}


def step_keys(services: Services, run_id: str, event_type: dg.DagsterEventType) -> list[str]:
    with services.instance() as instance:
        records = instance.get_records_for_run(run_id, of_type=event_type).records
        return [r.event_log_entry.step_key for r in records]


def test_backfill_of_all_history_is_one_run(services, backfill):
    runs = backfill["runs"]
    assert backfill["status"]["numPartitions"] == len(month_keys(DEMO_FIRST))
    assert backfill["status"]["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (backfill, services.tail())
    assert len(runs) == 1, runs  # single-run backfill policy: one run over the whole range
    (run,) = runs
    assert run["status"] == "SUCCESS", services.tail()
    assert run["jobName"] == "backfill_history"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        DEMO_FIRST, month_keys(DEMO_FIRST)[-1])
    assert tags["strata/warehouse"] == "write" and "dagster/max_runtime" in tags
    started = step_keys(services, run["runId"], dg.DagsterEventType.STEP_START)
    assert started.count("dbt_models") == 1  # one dbt invocation for all the months
    assert {f"{s}__{e}" for s, e in entities()} <= set(started)
    assert (services.out / "published").is_dir()


def test_webserver_serves_the_asset_graph_and_latest_materialisations(services, backfill):
    (run,) = backfill["runs"]
    nodes = services.gql(
        "{ assetNodes { assetKey { path } groupName isPartitioned description } }")["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    for system, entity in entities():
        node = by_key[f"{system}/{entity}"]
        assert node["groupName"] == f"ingestion_{system}" and node["isPartitioned"] and node["description"]
    assert by_key["published_marts"]["groupName"] == "publishing"
    assert {"finance", "segments"} <= {n["groupName"] for n in nodes}

    query = """query($k: AssetKeyInput!) { assetOrError(assetKey: $k) { __typename
        ... on Asset { assetMaterializations(limit: 50) { runId partition timestamp } } } }"""
    def materializations(*path: str) -> list[dict]:
        return services.gql(query, {"k": {"path": list(path)}})["assetOrError"]["assetMaterializations"]

    sales = materializations("erp", "sales_lines")
    # every month partition, those after the demo's last month (nothing landed) included
    assert {m["partition"] for m in sales} == set(month_keys(DEMO_FIRST))
    assert {m["runId"] for m in sales} == {run["runId"]}
    published = materializations("published_marts")
    assert published and published[0]["runId"] == run["runId"]


def test_two_runs_started_together_queue_and_both_succeed(services, backfill):
    launch = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
        ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
    run_ids = []
    for month in ("2026-09", "2026-10"):  # both write warehouse.duckdb
        selector = {**REPOSITORY, "jobName": "rerun_month", "assetSelection": [{"path": ["erp", "fx_rates"]}]}
        params = {"selector": selector,
                  "executionMetadata": {"tags": [{"key": "dagster/partition", "value": month}]}}
        result = services.gql(launch, {"p": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        run_ids.append(result["run"]["runId"])
    runs = services.wait_for_runs({"runIds": run_ids}, 2, timeout=600)
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], services.tail()
    first, second = sorted(runs, key=lambda r: r["startTime"])
    assert second["startTime"] >= first["endTime"]  # queued, not side by side
    for run_id in run_ids:
        assert step_keys(services, run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []  # no lock error
        assert "erp__fx_rates" in step_keys(services, run_id, dg.DagsterEventType.STEP_SUCCESS)
        assert step_keys(services, run_id, dg.DagsterEventType.STEP_FAILURE) == []

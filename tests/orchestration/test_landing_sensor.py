"""The landing sensor: exactly the affected partitions when a batch lands or is re-delivered.

Evaluated the way the daemon does (`build_sensor_context` with a real instance and the cursor of
the previous tick), over real landing folders. The month partitions are time windows: the sensor
registers nothing, it only asks for runs over existing partition keys.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from assets.core.contract import entities
from assets.core.resources import FROM_ENV, StrataPaths, paths_from_env
from orchestration.definitions import build_definitions
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG, month_blocks
from tests.orchestration.helpers import (
    DEMO_END,
    WarehouseLock,
    config_from,
    local_instance,
    strata_paths,
    write_empty,
    write_fx,
)

ALL_INGESTION = {dg.AssetKey([s, e]) for s, e in entities()}
PUBLISHED = dg.AssetKey("published_marts")
QUIET_ENV = FROM_ENV["landing_quiet_seconds"]


class Tick:
    """Evaluates the landing sensor tick after tick, carrying the cursor like the daemon.

    Its `paths` resource (no quiet period unless given) is handed to every tick, as the daemon does.
    """

    def __init__(self, landing: Path, tmp_path: Path, paths: StrataPaths | None = None,
                 config: Path | None = None):
        self.paths = paths or strata_paths(landing, tmp_path / "out", config, landing_quiet_seconds=0)
        self.defs = build_definitions(self.paths)
        self.instance = local_instance(tmp_path / "dagster_home")
        self.sensor = self.defs.resolve_sensor_def("landing_sensor")
        self.cursor: str | None = None

    def __call__(self) -> dg.SensorResult:
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=self.defs,
                                     resources={"paths": self.paths}) as context:
            result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        assert not result.dynamic_partitions_requests  # time-window partitions: nothing to register
        self.cursor = result.cursor
        return result


def months_of(request: dg.RunRequest) -> tuple[str, str]:
    if request.partition_key:
        return request.partition_key, request.partition_key
    return request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]


def ingestion_of(request: dg.RunRequest) -> set[dg.AssetKey]:
    return {k for k in request.asset_selection if k in ALL_INGESTION}


def test_first_tick_loads_every_month_in_one_run(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    result = tick()
    assert len(result.run_requests) == 1
    run = result.run_requests[0]
    assert months_of(run) == ("2025-09", DEMO_END)
    assert ingestion_of(run) == ALL_INGESTION
    assert PUBLISHED in run.asset_selection
    assert run.tags["strata/trigger"] == "landing_sensor"

    again = tick()
    assert again.run_requests == []
    assert "no new or re-delivered batch" in again.skip_reason.skip_message


def test_new_month_of_one_entity(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_fx(landing_copy, "2026-11")
    result = tick()
    (run,) = result.run_requests
    assert run.partition_key == "2026-11"
    assert ingestion_of(run) == {dg.AssetKey(["erp", "fx_rates"])}
    # everything downstream of fx rates, and nothing that does not depend on them
    assert PUBLISHED in run.asset_selection
    graph = tick.defs.resolve_asset_graph()
    downstream = dg.AssetSelection.assets(dg.AssetKey(["erp", "fx_rates"])).downstream().resolve(graph)
    assert set(run.asset_selection) == downstream
    assert tick().run_requests == []


def test_redelivery_of_one_batch(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_empty(landing_copy, "crm", "activities", "2026-03")  # replaces the earlier delivery
    result = tick()
    (run,) = result.run_requests
    assert months_of(run) == ("2026-03", "2026-03")
    assert ingestion_of(run) == {dg.AssetKey(["crm", "activities"])}
    assert tick().run_requests == []


def test_consecutive_months_are_one_range_run(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_empty(landing_copy, "psa", "tickets", "2026-02")
    write_empty(landing_copy, "erp", "payments", "2026-03")
    (run,) = tick().run_requests
    assert months_of(run) == ("2026-02", "2026-03")
    assert run.partition_key is None
    assert ingestion_of(run) == {dg.AssetKey(["psa", "tickets"]), dg.AssetKey(["erp", "payments"])}


def test_months_apart_are_separate_runs(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_empty(landing_copy, "psa", "tickets", "2025-10")
    write_fx(landing_copy, "2026-05")
    runs = sorted(tick().run_requests, key=months_of)
    assert [months_of(r) for r in runs] == [("2025-10", "2025-10"), ("2026-05", "2026-05")]
    assert [ingestion_of(r) for r in runs] == [
        {dg.AssetKey(["psa", "tickets"])}, {dg.AssetKey(["erp", "fx_rates"])}]
    assert len({r.run_key for r in runs}) == 2


def test_a_late_older_month_is_loaded_on_its_own(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_fx(landing_copy, "2025-08")  # older than every month loaded so far: a partition all the same
    (run,) = tick().run_requests
    assert run.partition_key == "2025-08"
    assert ingestion_of(run) == {dg.AssetKey(["erp", "fx_rates"])}


def test_nothing_when_nothing_changed_and_removed_folders_are_forgotten(landing_copy, tmp_path):
    tick = Tick(landing_copy, tmp_path)
    tick()
    for name in os.listdir(landing_copy / "erp" / "items" / "2025-09"):  # read, never change
        (landing_copy / "erp" / "items" / "2025-09" / name).read_bytes()
    shutil.rmtree(landing_copy / "erp" / "items" / "2025-09")
    result = tick()
    assert result.run_requests == []
    assert "erp/items/2025-09" not in result.cursor


def test_a_batch_still_being_written_waits_for_the_quiet_period(landing_copy, tmp_path, monkeypatch):
    """The code location's resource: STRATA_LANDING_QUIET_SECONDS as a `dg.EnvVar`, resolved every tick."""
    monkeypatch.setenv(QUIET_ENV, "0")
    tick = Tick(landing_copy, tmp_path, paths_from_env(landing_dir=str(landing_copy),
                                                         out_dir=str(tmp_path / "out")))
    tick()
    monkeypatch.setenv(QUIET_ENV, "3600")
    write_fx(landing_copy, "2026-11")
    result = tick()
    assert result.run_requests == []
    assert "waiting" in result.skip_reason.skip_message
    monkeypatch.setenv(QUIET_ENV, "0")  # ... an hour later
    (run,) = tick().run_requests
    assert run.partition_key == "2026-11"


def test_the_quiet_period_is_the_resources_not_the_environments(landing_copy, tmp_path, monkeypatch):
    monkeypatch.setenv(QUIET_ENV, "0")  # never read: the resource holds the setting
    out = tmp_path / "out"
    tick = Tick(landing_copy, tmp_path, strata_paths(landing_copy, out, landing_quiet_seconds=3600))
    waiting = tick()  # the landing folder was copied a moment ago: nothing has been quiet for an hour
    assert waiting.run_requests == [] and "still being written" in waiting.skip_reason.skip_message
    tick.paths = strata_paths(landing_copy, out, landing_quiet_seconds=0)
    (run,) = tick().run_requests
    assert ingestion_of(run) == ALL_INGESTION


def test_batches_already_loaded_are_not_requested_again(tmp_path):
    """First tick on a landing folder that a real run already loaded: nothing to do."""
    landing = tmp_path / "landing"
    write_fx(landing, "2026-09")
    write_fx(landing, "2026-10")
    tick = Tick(landing, tmp_path)
    job = tick.defs.resolve_job_def("rerun_month")
    result = job.execute_in_process(instance=tick.instance, partition_key="2026-10",
                                    asset_selection=[dg.AssetKey(["erp", "fx_rates"])])
    assert result.success
    (run,) = tick().run_requests  # 2026-10 was loaded after it landed; 2026-09 never was
    assert run.partition_key == "2026-09"
    write_fx(landing, "2026-10", rate="1.12")  # re-delivered after the load
    (run,) = tick().run_requests
    assert run.partition_key == "2026-10"


def test_sensor_does_not_touch_the_warehouse(landing_copy, tmp_path):
    """A writer holding warehouse.duckdb does not stop the sensor (it never opens the file)."""
    tick = Tick(landing_copy, tmp_path)
    tick.paths.out.mkdir(parents=True, exist_ok=True)
    with WarehouseLock(tick.paths.warehouse, seconds=30):
        result = tick()
    assert len(result.run_requests) == 1


def test_month_blocks():
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert month_blocks(months, ["2026-01", "2026-02", "2026-04"]) == [["2026-01", "2026-02"], ["2026-04"]]
    assert month_blocks(months, []) == []
    # no landing month between them: one range (the month without a batch loads nothing)
    assert month_blocks(["2026-01", "2026-03"], ["2026-01", "2026-03"]) == [["2026-01", "2026-03"]]


def test_batches_outside_the_month_partitions_are_not_loaded(landing_copy, tmp_path):
    """Months before the configured first month, or after the open month, are no partition."""
    write_fx(landing_copy, "2099-01")
    tick = Tick(landing_copy, tmp_path, config=config_from(tmp_path, "2026-01"))
    (run,) = tick().run_requests
    assert months_of(run) == ("2026-01", DEMO_END)
    assert not any("2099-01" in k or "2025-" in k for k in tick.cursor.split('"'))  # looked at again next tick


def test_the_daemons_evaluation_accepts_the_requested_partitions(landing_copy, tmp_path):
    """`evaluate_tick` (what the code server runs for the daemon) resolves the run requests against
    the month partitions: new months and late ones alike, nothing registered first."""
    tick = Tick(landing_copy, tmp_path)
    tick()
    write_fx(landing_copy, "2026-11")
    write_fx(landing_copy, "2025-08")
    ref = tick.instance.get_ref()  # as in the code server: the instance by reference
    with dg.build_sensor_context(instance_ref=ref, cursor=tick.cursor, definitions=tick.defs,
                                 resources={"paths": tick.paths}) as context:
        data = tick.sensor.evaluate_tick(context)
    assert sorted(r.partition_key for r in data.run_requests) == ["2025-08", "2026-11"]
    assert all(r.job_name in (None, "load_landed_batches") for r in data.run_requests)
    assert data.dynamic_partitions_requests == []

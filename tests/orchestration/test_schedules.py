"""The nightly refresh and month-end close schedules target the right partitions."""

from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.core.contract import entities
from assets.core.resources import TIMEZONE_ENV, paths_from_env
from orchestration.definitions import build_definitions
from orchestration.schedules import (
    CLOSE_LAST_DAY,
    CLOSE_MONTH_TAG,
    MONTH_END_CRON,
    NIGHTLY_CRON,
    close_months,
    plan_month_end_close,
)
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG
from tests.orchestration.helpers import DEMO_END, build_defs, local_instance, write_fx

UTC = ZoneInfo("UTC")


class Schedules:
    def __init__(self, landing, tmp_path):
        self.defs, self.paths = build_defs(landing, tmp_path / "out")
        self.instance = local_instance(tmp_path / "dagster_home")

    def tick(self, name: str, when: dt.datetime) -> dg.RunRequest | dg.SkipReason:
        """One tick as the daemon evaluates it (`evaluate_tick`: requests resolved and validated)."""
        schedule = self.defs.resolve_schedule_def(name)
        with dg.build_schedule_context(instance_ref=self.instance.get_ref(), scheduled_execution_time=when,
                                       resources={"paths": self.paths},
                                       repository_def=self.defs.get_repository_def()) as context:
            data = schedule.evaluate_tick(context)
        if data.run_requests:
            (request,) = data.run_requests
            return request
        return dg.SkipReason(data.skip_message)


def at(day: str, hour: int) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def months_of(request: dg.RunRequest) -> tuple[str, str]:
    if request.partition_key:
        return request.partition_key, request.partition_key
    return request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]


def test_cron_and_definitions(demo_landing, tmp_path):
    s = Schedules(demo_landing, tmp_path)
    nightly = s.defs.resolve_schedule_def("nightly_refresh_schedule")
    close = s.defs.resolve_schedule_def("month_end_close_schedule")
    assert (nightly.cron_schedule, nightly.job_name) == (NIGHTLY_CRON, "nightly_refresh")
    assert (close.cron_schedule, close.job_name) == (MONTH_END_CRON, "month_end_close")
    assert nightly.default_status == close.default_status == dg.DefaultScheduleStatus.STOPPED
    assert nightly.execution_timezone == close.execution_timezone == "UTC"  # the resource's default


def test_the_time_zone_is_the_resources(tmp_path, monkeypatch):
    """Fixed when the definitions are built: from the `paths` resource, which the code location fills
    from STRATA_TIMEZONE; the environment is not read after that."""
    defs, _ = build_defs(tmp_path / "landing", tmp_path / "out", timezone="Europe/Berlin")
    assert {s.execution_timezone for s in defs.get_repository_def().schedule_defs} == {"Europe/Berlin"}
    monkeypatch.setenv(TIMEZONE_ENV, "America/New_York")
    paths = paths_from_env()
    assert paths.timezone == "America/New_York"
    monkeypatch.setenv(TIMEZONE_ENV, "Asia/Tokyo")  # after the definitions are built: no effect
    schedules = build_definitions(paths).get_repository_def().schedule_defs
    assert {s.execution_timezone for s in schedules} == {"America/New_York"}


def test_nightly_targets_the_newest_month(demo_landing, tmp_path):
    s = Schedules(demo_landing, tmp_path)
    request = s.tick("nightly_refresh_schedule", at("2026-11-15", 2))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == DEMO_END


def test_nightly_follows_a_new_month(landing_copy, tmp_path):
    s = Schedules(landing_copy, tmp_path)
    write_fx(landing_copy, "2026-11")  # the open month's first daily drop
    request = s.tick("nightly_refresh_schedule", at("2026-11-16", 2))
    assert request.partition_key == "2026-11"


def test_nightly_passes_over_a_month_that_is_no_partition(landing_copy, tmp_path):
    write_fx(landing_copy, "2099-01")  # after the open month: never a partition
    request = Schedules(landing_copy, tmp_path).tick("nightly_refresh_schedule", at("2026-11-16", 2))
    assert request.partition_key == DEMO_END


def test_nightly_skips_an_empty_landing_folder(tmp_path):
    (tmp_path / "landing").mkdir()
    s = Schedules(tmp_path / "landing", tmp_path)
    result = s.tick("nightly_refresh_schedule", at("2026-11-15", 2))
    assert isinstance(result, dg.SkipReason)


def test_month_end_close_loads_the_closed_month_and_the_one_before(demo_landing, tmp_path):
    s = Schedules(demo_landing, tmp_path)
    request = s.tick("month_end_close_schedule", at("2026-11-02", 6))
    assert isinstance(request, dg.RunRequest)
    assert months_of(request) == ("2026-09", "2026-10")
    assert request.tags[CLOSE_MONTH_TAG] == "2026-10"
    assert request.run_key == "month_end_close:2026-10"


def test_month_end_close_waits_for_the_closed_month_then_runs_on_the_last_day(landing_copy, tmp_path):
    shutil.rmtree(landing_copy / "psa" / "tickets" / "2026-10")
    s = Schedules(landing_copy, tmp_path)
    waiting = s.tick("month_end_close_schedule", at("2026-11-03", 6))
    assert isinstance(waiting, dg.SkipReason)
    assert "psa/tickets" in waiting.skip_message and "2026-10" in waiting.skip_message
    last = s.tick("month_end_close_schedule", at(f"2026-11-{CLOSE_LAST_DAY:02d}", 6))
    assert isinstance(last, dg.RunRequest)
    assert months_of(last) == ("2026-09", "2026-10")
    assert last.tags["strata/missing_entities"] == "1"


def test_month_end_close_skips_when_nothing_of_the_month_landed(demo_landing, tmp_path):
    s = Schedules(demo_landing, tmp_path)
    result = s.tick("month_end_close_schedule", at("2026-12-10", 6))  # 2026-11 never landed
    assert isinstance(result, dg.SkipReason)
    assert "nothing has landed for 2026-11" in result.skip_message


def test_month_end_close_runs_once_per_closed_month(demo_landing, tmp_path):
    s = Schedules(demo_landing, tmp_path)
    request = s.tick("month_end_close_schedule", at("2026-11-02", 6))
    job = s.defs.resolve_job_def("month_end_close")
    run = s.instance.create_run_for_job(job, tags={**request.tags})  # the daemon's queued run
    again = s.tick("month_end_close_schedule", at("2026-11-03", 6))
    assert isinstance(again, dg.SkipReason) and "already closed" in again.skip_message
    s.instance.report_run_failed(run)  # a failed close is tried again on the next tick
    assert isinstance(s.tick("month_end_close_schedule", at("2026-11-04", 6)), dg.RunRequest)


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-11-02", ("2026-09", "2026-10")),
    ("2027-01-05", ("2026-11", "2026-12")),
    ("2027-02-03", ("2026-12", "2027-01")),
])
def test_close_months_across_year_ends(day, expected):
    assert close_months(dt.date.fromisoformat(day)) == expected


def test_close_of_the_very_first_month_is_a_single_partition():
    expected = list(entities())
    batches = [(s, e, "2026-10") for s, e in expected]
    request = plan_month_end_close(dt.date(2026, 11, 2), batches, expected)
    assert request.partition_key == "2026-10"

"""The nightly refresh and the month-end close: which months each tick loads, and when it waits.

- `nightly_refresh_schedule`, every day at 02:00: the newest month present in the landing folder
  (the open month, which the systems may re-deliver daily, or the month just closed early in a
  month). Nothing landed at all: the tick is skipped and says so.
- `month_end_close_schedule`, at 06:00 on days 2 to 10 of each month (fiscal months are calendar
  months; the extracts of a month arrive in the first days of the next): the month just closed
  plus the month before it, which is where late corrections land. It runs once per closed month:
  on the first tick on which every contract entity has a batch for the closed month, or on day 10
  with whatever has landed by then (the freshness checks then name what is missing). A tick skips,
  saying why, while the closed month is incomplete, when nothing of it has landed, and once a
  close run for that month is queued, running or succeeded (a failed one is tried again next day).

Both only consider landing months that are `month` partitions (from the configured first month to
the open month; nothing is registered), so they work with the landing sensor turned off. Times are
in the `paths` resource's `timezone` (STRATA_TIMEZONE, default UTC), fixed when the definitions are
built: a schedule's time zone is part of its definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg

from assets.core.contract import entities
from assets.core.partitions import month_keys
from assets.core.resources import StrataPaths
from assets.ingestion.landing_scan import scan_landing
from orchestration.jobs import month_end_close, nightly_refresh
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG, TRIGGER_TAG

NIGHTLY_CRON = "0 2 * * *"
CLOSE_FIRST_DAY, CLOSE_LAST_DAY = 2, 10
MONTH_END_CRON = f"0 6 {CLOSE_FIRST_DAY}-{CLOSE_LAST_DAY} * *"
CLOSE_MONTH_TAG = "strata/close_month"

_ACTIVE_OR_DONE = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS,
]


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def close_months(day: dt.date) -> tuple[str, str]:
    """(the month before the closed one, the closed month) for a tick on `day`."""
    closed = previous_month(month_of(day))
    return previous_month(closed), closed


def _tick_day(context: dg.ScheduleEvaluationContext) -> dt.date:
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return when.date()


def plan_nightly(landing_months: Iterable[str]) -> dg.RunRequest | dg.SkipReason:
    months = sorted(set(landing_months))
    if not months:
        return dg.SkipReason("the landing folder holds no batch yet: nothing to refresh")
    return dg.RunRequest(partition_key=months[-1], tags={TRIGGER_TAG: "nightly_refresh_schedule"})


def plan_month_end_close(
    day: dt.date,
    batches: Iterable[tuple[str, str, str]],
    expected: Iterable[tuple[str, str]],
    already_closed: bool = False,
) -> dg.RunRequest | dg.SkipReason:
    """The close tick's decision. `batches`: (system, entity, month) in the landing folder."""
    before, closed = close_months(day)
    batches = set(batches)
    if already_closed:
        return dg.SkipReason(f"{closed} is already closed (a month_end_close run for it is queued, "
                             "running or succeeded); launch month_end_close by hand to close it again")
    have = {(s, e) for s, e, m in batches if m == closed}
    if not have:
        return dg.SkipReason(f"nothing has landed for {closed} yet: no close")
    missing = sorted(set(expected) - have)
    if missing and day.day < CLOSE_LAST_DAY:
        names = ", ".join(f"{s}/{e}" for s, e in missing)
        return dg.SkipReason(f"waiting for {closed} to land completely (until day {CLOSE_LAST_DAY}): "
                             f"{len(missing)} entit{'y' if len(missing) == 1 else 'ies'} missing: {names}")
    months = [m for m in (before, closed) if any(b[2] == m for b in batches)]
    tags = {TRIGGER_TAG: "month_end_close_schedule", CLOSE_MONTH_TAG: closed}
    if missing:
        tags["strata/missing_entities"] = str(len(missing))
    if len(months) == 1:
        return dg.RunRequest(run_key=f"month_end_close:{closed}", partition_key=closed, tags=tags)
    return dg.RunRequest(run_key=f"month_end_close:{closed}",
                         tags={**tags, RANGE_START_TAG: months[0], RANGE_END_TAG: months[-1]})


def _partitions(paths: StrataPaths) -> set[str]:
    return set(month_keys(paths.settings().partitions.first_month))


def nightly_refresh_tick(context: dg.ScheduleEvaluationContext, paths: StrataPaths):
    partitions = _partitions(paths)
    return plan_nightly(m for m in scan_landing(paths.landing).months if m in partitions)


def month_end_close_tick(context: dg.ScheduleEvaluationContext, paths: StrataPaths):
    day = _tick_day(context)
    _, closed = close_months(day)
    done = context.instance.get_run_records(
        dg.RunsFilter(job_name=month_end_close.name, tags={CLOSE_MONTH_TAG: closed},
                      statuses=_ACTIVE_OR_DONE),
        limit=1,
    )
    scan, partitions = scan_landing(paths.landing), _partitions(paths)
    return plan_month_end_close(
        day,
        [(b.system, b.entity, b.batch) for b in scan.batches if b.batch in partitions],
        list(entities()),
        already_closed=bool(done),
    )


def build_schedules(timezone: str) -> list[dg.ScheduleDefinition]:
    """The schedules, their times in `timezone` (the `paths` resource's, when the definitions are built)."""
    return [
        dg.schedule(
            name="nightly_refresh_schedule",
            job=nightly_refresh,
            cron_schedule=NIGHTLY_CRON,
            execution_timezone=timezone,
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description="02:00 every day: nightly_refresh of the newest month in the landing folder.",
        )(nightly_refresh_tick),
        dg.schedule(
            name="month_end_close_schedule",
            job=month_end_close,
            cron_schedule=MONTH_END_CRON,
            execution_timezone=timezone,
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description=f"06:00 on days {CLOSE_FIRST_DAY}-{CLOSE_LAST_DAY} of each month: month_end_close "
            "of the month just closed and the one before, once the closed month has landed (on day "
            f"{CLOSE_LAST_DAY} with whatever has landed); once per closed month.",
        )(month_end_close_tick),
    ]

"""The strata jobs, named for what people do with them.

Every job selects the whole graph (ingestion → dbt → publishing, with every check); which months
a run loads is its partition or partition range (the `month` partitions: monthly time windows from
the configured first month to the open month, keys YYYY-MM):

| job | who starts it | months |
|---|---|---|
| `nightly_refresh` | the nightly schedule | the newest month in the landing folder |
| `month_end_close` | the month-end schedule (or a person) | the month just closed and the one before |
| `backfill_history` | a person: the job's Backfill button, all partitions | all of them, in **one** run |
| `rerun_month` | a person: the launchpad, one partition | that month |
| `load_landed_batches` | the landing sensor | the months of new or re-delivered batches |
| `materialize_all` | `strata materialize` (in process) | all of them, one run |

Shared by all of them (docs/operations.md):
- the in-process executor: every step opens the one DuckDB warehouse, so steps never run side by
  side anyway, and one process per run saves a Python start per step;
- no step retry policy: a step retries only what is known to be transient (a warehouse locked by a
  process outside Dagster, a full disk, a stale or timed-out network share, PostgreSQL unreachable),
  10 s, 30 s and 70 s after each failure (`assets/core/retries.py`). A policy would also turn an
  interrupt (SIGINT, SIGTERM, a termination from the UI) into a retry, so the run would go on;
  without one, an interrupt ends the run;
- run tags: `strata/warehouse=write` (the instance's run queue starts one such run at a time),
  `dagster/max_runtime` (run monitoring ends a run that overruns), `dagster/max_retries` (a run
  whose worker crashed is retried once from the failure), `strata/purpose`.
"""

from __future__ import annotations

import dagster as dg

# The run-queue tag: the instance configurations limit runs carrying it to one at a time.
WAREHOUSE_TAG_KEY = "strata/warehouse"
WAREHOUSE_TAG = {WAREHOUSE_TAG_KEY: "write"}
PURPOSE_TAG = "strata/purpose"
MAX_RUNTIME_TAG = "dagster/max_runtime"
MAX_RETRIES_TAG = "dagster/max_retries"

HOUR = 3600


def _tags(purpose: str, max_runtime_seconds: int | None, run_retries: int | None) -> dict[str, str]:
    tags = {PURPOSE_TAG: purpose, **WAREHOUSE_TAG}
    if max_runtime_seconds is not None:
        tags[MAX_RUNTIME_TAG] = str(max_runtime_seconds)
    if run_retries is not None:
        tags[MAX_RETRIES_TAG] = str(run_retries)
    return tags


def strata_job(
    name: str,
    description: str,
    *,
    max_runtime_seconds: int | None = 2 * HOUR,
    run_retries: int | None = 1,
) -> dg.UnresolvedAssetJobDefinition:
    """A job over the whole graph with the shared executor and tags (and no step retry policy)."""
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.all(),
        description=description,
        tags=_tags(name, max_runtime_seconds, run_retries),
        executor_def=dg.in_process_executor,
    )


nightly_refresh = strata_job(
    "nightly_refresh",
    "Every night: load the newest month's batches again (the systems may re-deliver the open "
    "month daily), rebuild the marts, run every check and publish. Started by "
    "`nightly_refresh_schedule` for the newest month in the landing folder.",
    max_runtime_seconds=2 * HOUR,
)

month_end_close = strata_job(
    "month_end_close",
    "Month-end close: load the month just closed and the month before it (late corrections to a "
    "closed month), rebuild the marts, run every check and publish. Started by "
    "`month_end_close_schedule` once the closed month has landed; a person can launch it for any "
    "two-month range.",
    max_runtime_seconds=4 * HOUR,
)

backfill_history = strata_job(
    "backfill_history",
    "Backfill of all history: launch a backfill of this job over all partitions. Every asset has "
    "a single-run backfill policy, so the backfill is one run over the whole month range, with "
    "one dbt build (not one per month).",
    max_runtime_seconds=12 * HOUR,
)

rerun_month = strata_job(
    "rerun_month",
    "Re-run one month: pick the month (partition) in the launchpad. Loads that month's batches of "
    "every entity again, then rebuilds the marts, runs the checks and publishes.",
    max_runtime_seconds=2 * HOUR,
)

load_landed_batches = strata_job(
    "load_landed_batches",
    "Started by `landing_sensor` when batches land or are re-delivered: loads exactly the changed "
    "entities for the changed months (one run over a month range where the months are "
    "consecutive), then what depends on them.",
    max_runtime_seconds=2 * HOUR,
)

# `strata materialize` runs this one in process (orchestration/runner.py resolves it by name). No
# run-level retry or time limit: a daemon must not relaunch or cancel a terminal's run.
materialize_all = strata_job(
    "materialize_all",
    "Load every landing batch of the selected months, rebuild the finance and segment marts, run "
    "every check and publish. What `strata materialize` runs, over all months in one run.",
    max_runtime_seconds=None,
    run_retries=None,
)

ALL_JOBS = [
    nightly_refresh, month_end_close, backfill_history, rerun_month, load_landed_batches, materialize_all,
]

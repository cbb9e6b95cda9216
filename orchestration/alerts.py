"""The run-failure alert: a clear message in the log and, if configured, a JSON POST to a webhook.

`run_failure_alert` is on by default. For every failed run of this code location it logs one
error line: the job, the run id, the month or month range, and each failed step with the first
line of its error. When the `paths` resource has an `alert_webhook_url` (STRATA_ALERT_WEBHOOK_URL: a
Slack or Teams incoming webhook, or any HTTP endpoint), it also POSTs the alert as JSON:

    {"text": "...", "source": "strata", "status": "FAILURE", "job": "...", "run_id": "...",
     "partition": "...", "failed_steps": [{"step": "...", "error": "..."}], "run_url": "..."}

`run_url` is filled in when the resource's `dagster_url` (STRATA_DAGSTER_URL) names the webserver
(e.g. http://dagster:3000).
The POST has a timeout; a webhook that is down or refuses is reported in the log and never fails
the sensor; the webhook URL (which carries its secret) is never written anywhere.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import dagster as dg

from assets.core.resources import FROM_ENV, StrataPaths

WEBHOOK_ENV = FROM_ENV["alert_webhook_url"]  # named (never its value) in messages
WEBHOOK_TIMEOUT_SECONDS = 10
MAX_ERROR_CHARS = 600
MAX_ERROR_LINES = 4


def _first_line(text: str | None) -> str:
    """The start of an error message: its first lines (a refusal lists files there), shortened."""
    lines = [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()][:MAX_ERROR_LINES]
    summary = "\n".join(lines) or "failed"
    return summary if len(summary) <= MAX_ERROR_CHARS else summary[: MAX_ERROR_CHARS - 1] + "…"


# Dagster wraps the error of a step that used up its retries; the cause is what people need.
_RETRY_WRAPPERS = ("Exceeded max_retries", "RetryRequested but retries are disabled")


def failure_message(data) -> str:
    """What went wrong in a failed step: a `dg.Failure`'s description, else the innermost error."""
    if data is None:
        return "failed"
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return user.description
    error = data.error
    while error is not None and error.cause is not None and error.message.startswith(_RETRY_WRAPPERS):
        error = error.cause
    return error.message if error is not None else "failed"


def _partition(tags: dict[str, str]) -> str | None:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        return start if start == end else f"{start}..{end}"
    return None


def build_alert(
    run: dg.DagsterRun,
    failures: list[tuple[str, str]],
    run_error: str | None = None,
    ui_url: str | None = None,
) -> dict[str, Any]:
    """The alert for a failed run: `failures` is [(step key, error message)]; `ui_url` the
    webserver's base URL, for the link to the run."""
    tags = dict(run.tags)
    partition = _partition(tags)
    ui = (ui_url or "").strip().rstrip("/")
    steps = [{"step": step, "error": _first_line(error)} for step, error in failures]
    where = f" for {partition}" if partition else ""
    lines = [f"strata: run {run.run_id} of job {run.job_name}{where} FAILED."]
    if steps:
        lines += [f"- {s['step']}: {s['error']}".replace("\n", "\n    ") for s in steps]
    elif run_error:
        lines.append(f"- {_first_line(run_error)}")
    else:
        lines.append("- no step failed: the run itself failed (worker crashed, was terminated or timed out)")
    url = f"{ui}/runs/{run.run_id}" if ui else None
    lines.append(f"Logs: {url}" if url else f"Logs: Dagster UI → Runs → {run.run_id}")
    return {
        "text": "\n".join(lines),
        "source": "strata",
        "status": "FAILURE",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": partition,
        "trigger": (tags.get("strata/trigger") or tags.get("dagster/schedule_name")
                    or tags.get("dagster/sensor_name")),
        "failed_steps": steps,
        "run_url": url,
    }


def post_alert(alert: dict[str, Any], url: str, log, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> bool:
    """POST the alert as JSON; never raises, never logs the URL. True when the webhook took it."""
    body = json.dumps(alert).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "strata-alerts"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
        log.info(f"alert for run {alert['run_id']} sent to the webhook (HTTP {status})")
        return True
    except urllib.error.HTTPError as exc:
        reason = f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        reason = f"unreachable ({type(exc.reason).__name__})"
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - an alert must never take the sensor down
        reason = type(exc).__name__
    log.warning(f"alert for run {alert['run_id']} could not be sent to the webhook "
                f"({WEBHOOK_ENV}): {reason}")
    return False


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Logs a clear alert for every failed run and POSTs it as JSON to the webhook "
    f"({WEBHOOK_ENV}) when one is set.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, paths: StrataPaths) -> None:
    failures = []
    try:
        for event in context.get_step_failure_events():
            failures.append((event.step_key or "?", failure_message(event.step_failure_data)))
    except Exception as exc:  # noqa: BLE001 - still alert, with what we know
        context.log.warning(f"could not read the failed steps of run {context.dagster_run.run_id}: {exc}")
    alert = build_alert(context.dagster_run, failures, context.failure_event.message, paths.dagster_url)
    context.log.error(alert["text"])
    url = (paths.alert_webhook_url or "").strip()
    if url:
        post_alert(alert, url, context.log)


ALL_ALERT_SENSORS = [run_failure_alert]

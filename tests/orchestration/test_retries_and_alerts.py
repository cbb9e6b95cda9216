"""Transient failures are retried with backoff, an interrupt ends the run; failed runs raise a clear
alert (log and webhook)."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets.core.dbt import failed_build, stop_running_dbt, stopped_on_exit
from assets.core.engines import environment
from assets.core.resources import FROM_ENV, StrataPaths, paths_from_env
from assets.core.retries import FIRST_DELAY_SECONDS, MAX_RETRIES, is_transient, retry_delay
from orchestration.alerts import WEBHOOK_ENV, post_alert
from orchestration.generator.landing import write_batch
from orchestration.jobs import strata_job
from orchestration.run_events import Phase, RunProgress
from orchestration.runner import was_interrupted
from tests.orchestration.helpers import (
    WarehouseLock,
    build_defs,
    local_instance,
    rerun_month_job,
    step_retry_policy,
    write_fx,
)

FX = dg.AssetKey(["erp", "fx_rates"])
NO_RETRIES = {"execution": {"config": {"retries": {"disabled": {}}}}}
SECRET = "T000-SECRET-TOKEN-4711"


def one_batch_setup(tmp_path, month: str = "2026-10"):
    landing = tmp_path / "landing"
    write_fx(landing, month)
    defs, paths = build_defs(landing, tmp_path / "out")
    instance = local_instance(tmp_path / "dagster_home")
    paths.out.mkdir(parents=True, exist_ok=True)
    return defs, paths, instance


def test_a_locked_warehouse_is_retried_with_backoff_then_succeeds(tmp_path):
    defs, paths, instance = one_batch_setup(tmp_path)
    job = defs.resolve_job_def("rerun_month")
    for step in ("erp__fx_rates", "dbt_models", "published_marts"):  # ingestion, dbt, publishing
        # no policy: the step asks for its retry itself (assets/core/retries.py), an interrupt is no retry
        assert step_retry_policy(job, step) is None
    with WarehouseLock(paths.warehouse, seconds=4) as lock:
        started = time.monotonic()
        result = job.execute_in_process(instance=instance, partition_key="2026-10", asset_selection=[FX],
                                        raise_on_error=False)
        elapsed = time.monotonic() - started
        lock.wait()
    assert result.success
    kinds = [e.event_type for e in result.all_events if e.step_key == "erp__fx_rates"]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY in kinds
    assert kinds[-1] == dg.DagsterEventType.STEP_SUCCESS
    retry = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert "Could not set lock" in str(retry.event_specific_data.error.to_string())
    assert elapsed >= FIRST_DELAY_SECONDS  # waited (backoff) before trying again
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert [e.event_specific_data.seconds_to_wait for e in retries] == [10]  # the first of 10, 30, 70 s
    assert instance.get_latest_materialization_event(FX) is not None


def test_the_retry_schedule_and_what_is_transient(tmp_path):
    """One rule for every step: 3 retries, 10 s, 30 s and 70 s after each failure; transient is a
    locked warehouse (in a DuckDB error, or in dbt's), a full disk; a data error is not."""
    assert (MAX_RETRIES, [retry_delay(n) for n in range(MAX_RETRIES)]) == (3, [10, 30, 70])
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    with WarehouseLock(warehouse, seconds=60), pytest.raises(duckdb.IOException) as locked:
        duckdb.connect(str(warehouse))
    assert is_transient(locked.value)
    assert is_transient(RuntimeError("publishing failed")) is False
    assert is_transient(OSError(errno.ENOSPC, "No space left on device"))
    full = duckdb.IOException('Could not write file "/x/part-0.parquet": No space left on device')
    assert is_transient(full)
    try:  # the cause of a wrapped error counts
        try:
            raise full
        except duckdb.IOException as exc:
            raise ValueError("publication failed") from exc
    except ValueError as wrapped:
        assert is_transient(wrapped)
    assert is_transient(dg.Failure("Could not set lock on file")) is False  # a decision already made
    dbt_locked = DagsterDbtCliRuntimeError(f"dbt build failed: IO Error: {locked.value}")
    assert is_transient(failed_build(dbt_locked))  # retried by the step
    dbt_failed = failed_build(DagsterDbtCliRuntimeError("dbt build failed: int_fx_missing_rates"))
    assert isinstance(dbt_failed, dg.Failure)  # fails the step at once


def test_an_interrupt_ends_the_run_instead_of_being_retried():
    """Dagster turns an interrupt into a retry when a step has a retry policy: SIGINT (or SIGTERM,
    which Dagster treats alike) would then be waited out and the run would go on. A strata job's
    step fails at once, the run fails, and the runner sees why."""
    attempts = []

    @dg.asset
    def long_step(context):
        attempts.append(context.retry_number)
        os.kill(os.getpid(), signal.SIGINT)  # as `kill -INT <pid>` from outside
        time.sleep(30)  # interrupted here

    job = dg.Definitions(assets=[long_step], jobs=[strata_job("interrupted", "a test job")]).resolve_job_def(
        "interrupted")
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    assert attempts == [0]
    kinds = [e.event_type for e in result.all_events if e.step_key == "long_step"]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds
    assert kinds[-1] == dg.DagsterEventType.STEP_FAILURE
    assert was_interrupted(result)
    assert result.dagster_run.status == dg.DagsterRunStatus.FAILURE
    # the progress view names it for what it is, not by Dagster's error class
    progress = RunProgress(run_id=result.run_id, months=[], phases={"checks": Phase("checks", None)},
                           step_phase={})
    for entry in instance.all_logs(result.run_id):
        progress.apply(entry)
    assert progress.failures == ["long_step: interrupted"]


_WAITS_FOR_SIGINT = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    sys.exit(130)
"""


def _dbt_like_step(started: list):
    """A dbt step as dbt_models streams it: a child process that runs until it is told to stop, its
    output yielded event by event (here: one event, then waiting for more)."""
    # SIGINT ends it with a message, as dbt cancels its queries and exits. The child takes SIGINT
    # even when the test process ignores it (pytest started in the background of a non-interactive
    # shell: an ignored SIGINT survives exec). dbt started by a step inherits no such thing, since
    # Dagster's own SIGINT handler is installed while steps run. It says when it is ready: what is
    # tested is the stopping, not the start-up under load.
    child = subprocess.Popen([sys.executable, "-c", _WAITS_FOR_SIGINT], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    started.append(child)
    with stopped_on_exit(SimpleNamespace(process=child, termination_timeout_seconds=10)):
        yield "an event"
        child.wait()


def test_dbt_is_stopped_when_its_step_is_abandoned_mid_stream():
    """Dagster may raise its interrupt while it stores an event the step yielded, outside dagster-dbt's
    reader: the step's generator is then never resumed nor closed. The runner's stop_running_dbt
    (and this process's exit) must still end dbt."""
    started = []
    step = _dbt_like_step(started)
    assert next(step) == "an event"  # suspended mid-stream, as Dagster leaves it
    child = started[0]
    assert child.poll() is None
    assert stop_running_dbt() == [child.pid]
    assert child.returncode == 130  # asked to stop (SIGINT), not killed
    assert stop_running_dbt() == []  # nothing left to stop


def test_dbt_is_stopped_when_its_step_is_closed_and_left_alone_when_it_ended():
    started = []
    step = _dbt_like_step(started)
    next(step)
    step.close()  # a step whose generator is closed (GeneratorExit at its yield)
    assert started[0].returncode == 130
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    with stopped_on_exit(SimpleNamespace(process=finished, termination_timeout_seconds=10)):
        pass
    assert finished.returncode == 0 and stop_running_dbt() == []


def test_a_failing_dbt_build_fails_at_once_without_retries(tmp_path):
    # An invoice line in CHF, a currency without a rate that month: the missing FX rate is a
    # blocking dbt test (methodology §1). That fails the same way on every try, so the step must
    # not wait out three retries (10+30+70 s).
    defs, paths, instance = one_batch_setup(tmp_path)
    write_batch(paths.landing, "erp", "sales_lines", "2026-10", [{
        "document_type": "INVOICE", "document_no": "INV-1", "line_no": "1", "posting_date": "2026-10-05",
        "order_no": "SO-1", "customer_no": "C1", "item_no": "I1", "quantity": "1", "unit_price": "100",
        "line_discount_amount": "0", "net_amount": "100", "currency": "CHF", "cost_amount_lcy": "80",
        "order_channel": "EDI", "is_drop_ship": "false", "warehouse_code": "W1", "return_reason": ""}])
    sales = dg.AssetKey(["erp", "sales_lines"])
    job = defs.resolve_job_def("rerun_month")
    dbt_keys = list(defs.resolve_assets_def(dg.AssetKey(["marts", "fct_customer_profit_monthly"])).keys)
    result = job.execute_in_process(instance=instance, partition_key="2026-10", asset_selection=[FX, sales, *dbt_keys],
                                    raise_on_error=False)
    assert not result.success
    kinds = [e.event_type for e in result.all_events if e.step_key == "dbt_models"]
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds
    assert kinds[-1] == dg.DagsterEventType.STEP_FAILURE
    failure = next(e for e in result.all_events
                   if e.step_key == "dbt_models" and e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.to_string()
    assert "dbt build" in message and "int_fx_missing_rates" in message  # the command, the failed test


class Webhook:
    """A local HTTP endpoint that records what is POSTed to it."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append({"path": self.path, "type": self.headers["Content-Type"],
                                 "json": json.loads(body)})
                time.sleep(delay)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{SECRET}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """A real failed run: a batch whose manifest does not match its file is refused."""
    tmp_path = tmp_path_factory.mktemp("failed")
    defs, paths, instance = one_batch_setup(tmp_path)
    part = paths.landing / "erp" / "fx_rates" / "2026-10" / "part-0001.csv"
    part.write_text(part.read_text() + "2026-10-31,USD,1.00\n")  # the manifest's sha256 no longer matches
    # As a launched run executes (execute_in_process would ignore the executor's retry config):
    # retries off, so the test does not wait out the backoff of a failure that is not transient.
    env = {"STRATA_LANDING": str(paths.landing), "STRATA_OUT": str(paths.out)}
    with environment(env), dg.execute_job(
        dg.reconstructable(rerun_month_job), instance=instance, run_config=NO_RETRIES,
        tags={"dagster/partition": "2026-10"}, asset_selection=[FX],
    ) as result:
        assert not result.success
    run = instance.get_run_by_id(result.run_id)
    record = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
    return defs, instance, run, record.event_log_entry.dagster_event


def evaluate_alert(failed_run, capfd, paths: StrataPaths | None = None, **settings) -> str:
    """Run the alert sensor on the failed run with the `paths` resource (by default one with the
    given settings); returns everything it logged."""
    defs, instance, run, event = failed_run
    capfd.readouterr()
    sensor = defs.resolve_sensor_def("run_failure_alert")
    paths = paths or StrataPaths(landing_dir="landing", out_dir="out", **settings)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=event, dagster_instance=instance, dagster_run=run,
        resources={"paths": paths},
    ).for_run_failure()
    sensor(context)
    captured = capfd.readouterr()
    return captured.out + captured.err


def test_alert_is_logged_and_posted(failed_run, monkeypatch, caplog, capfd):
    """As the code location builds the resource: the webhook and the UI address from the environment."""
    _, _, run, _ = failed_run
    with Webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        monkeypatch.setenv(FROM_ENV["dagster_url"], "http://dagster.example:3000/")
        paths = paths_from_env()
        assert isinstance(paths.alert_webhook_url, dg.EnvVar)  # shown by name in the UI, not by value
        with caplog.at_level(logging.DEBUG):
            logged = evaluate_alert(failed_run, capfd, paths) + caplog.text
    (post,) = hook.received
    alert = post["json"]
    assert alert["run_url"] == f"http://dagster.example:3000/runs/{run.run_id}"
    assert post["type"] == "application/json"
    assert alert["job"] == "rerun_month" and alert["run_id"] == run.run_id
    assert alert["partition"] == "2026-10" and alert["status"] == "FAILURE"
    (step,) = alert["failed_steps"]
    assert step["step"] == "erp__fx_rates"
    assert "refusal" in step["error"] and "sha256" in step["error"]  # the cause, not the retry wrapper
    assert "rerun_month" in alert["text"] and run.run_id in alert["text"]
    assert f"run {run.run_id} of job rerun_month for 2026-10 FAILED" in logged
    assert "erp__fx_rates" in logged and "sent to the webhook" in logged
    assert SECRET not in logged


@pytest.mark.parametrize("how", ["http_500", "unreachable"])
def test_a_failing_webhook_never_breaks_the_sensor_nor_leaks_the_url(failed_run, monkeypatch, caplog, capfd,
                                                                     how):
    if how == "http_500":
        hook = Webhook(status=500)
        url = hook.url
    else:
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        hook, url = None, f"http://127.0.0.1:{port}/hooks/{SECRET}"
    with caplog.at_level(logging.DEBUG):
        if hook:
            with hook:
                logged = evaluate_alert(failed_run, capfd, alert_webhook_url=url)
        else:
            logged = evaluate_alert(failed_run, capfd, alert_webhook_url=url)
    logged += caplog.text
    assert "FAILED" in logged and "could not be sent to the webhook" in logged
    assert SECRET not in logged and url not in logged


def test_webhook_timeout(caplog):
    log = logging.getLogger("strata-test-alerts")
    with Webhook(delay=2.0) as hook, caplog.at_level(logging.DEBUG):
        started = time.monotonic()
        ok = post_alert({"run_id": "r1", "text": "x"}, hook.url, log, timeout=0.5)
        assert time.monotonic() - started < 2.0
    assert not ok
    assert "could not be sent" in caplog.text and SECRET not in caplog.text


def test_no_webhook_configured_only_logs(failed_run, monkeypatch, caplog, capfd):
    with Webhook() as hook, caplog.at_level(logging.DEBUG):
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)  # never read: the resource, which has none, decides
        logged = evaluate_alert(failed_run, capfd) + caplog.text
    assert hook.received == []
    assert "FAILED" in logged and "webhook" not in logged and "Logs: Dagster UI" in logged

"""Transient failures are retried with backoff; failed runs raise a clear alert (log and webhook)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from assets.core.engines import environment
from assets.core.resources import FROM_ENV, StrataPaths, paths_from_env
from orchestration.alerts import WEBHOOK_ENV, post_alert
from orchestration.generator.landing import write_batch
from orchestration.jobs import TRANSIENT_RETRY
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
        assert step_retry_policy(job, step) == TRANSIENT_RETRY
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
    assert elapsed >= TRANSIENT_RETRY.delay  # waited (backoff) before trying again
    assert instance.get_latest_materialization_event(FX) is not None


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

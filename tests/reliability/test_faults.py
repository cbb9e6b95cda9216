"""Fault injection on real `strata materialize` processes.

One chain of runs on one copy of the clean run (the session's `sample_run`: landing, warehouse,
Dagster instance, published copy), with `<out>/.published` on a 20 MB tmpfs throughout. Each run
meets a fault made from outside, and the tests check:
1. the published copy is still the last good one (the same version, every file byte for byte);
2. the run after a fault gets through the phase the fault broke, and a plain rerun completes;
3. its published tables equal the clean run's, row for row (every table, in a defined order).

The phase of a run is read from its Dagster event log (`<out>/dagster_home`, SQLite), never from a
hook in production code. Six runs, in order (one more only if the last one's retry fails):

1. SIGKILL of the `strata materialize` process during ingestion;
2. SIGKILL during dbt (the run must get through ingestion; dbt must not outlive it);
3. SIGTERM to the strata process alone while dbt runs: the run ends within a bound, dbt with it,
   no retry, a non-zero exit saying it was interrupted, the run failed in Dagster;
4. SIGKILL while the publication is being written (the run must get through dbt);
5. a truncated Parquet part in the landing (the batch is refused, nothing is published);
6. the plain rerun, publishing to PostgreSQL with secrets in its environment, which meets a
   warehouse locked by another process (the step waits and retries) and a full disk while the
   publication is written (the step fails, is retried, and completes once there is space again):
   it must complete and equal the clean run, and no secret may reach a file or its output.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.reliability.conftest import SECRET_PASSWORD, SECRET_WEBHOOK
from tests.reliability.harness import (
    alive,
    assert_same_rows,
    children,
    copy_run,
    event_dbs,
    make_writable,
    no_tmp_left_visible,
    published_rows,
    snapshot,
    start_materialize,
)
from tests.support.ci import missing

pytestmark = pytest.mark.slow

INGESTION = ("erp__", "crm__", "psa__")


def is_ingestion(step: str) -> bool:
    return step.startswith(INGESTION) and "__" in step and not step.endswith(("_band", "_coverage"))


def is_dbt(step: str) -> bool:
    """A `dbt build` step (the run has two: `dbt_models_2` first, `dbt_models` after the CLV fits)."""
    return step.startswith("dbt_models")


# --------------------------------------------------------------------------------------------------
# The chain: kills, a SIGTERM, bad input, then one run through a locked warehouse and a full disk.


# A rerun over an unchanged landing folder starts no run (docs/incremental.md): the first two kills
# are injected into runs that reload and rebuild everything, so there is real work to break; after a
# killed build a plain rerun rebuilds everything anyway.
FULL_REFRESH = ["--full-refresh"]


def _mount_tmpfs(path: Path, size: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def faults(clean, tmp_path_factory, postgres_target):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        missing("the fault chain needs root to mount a tmpfs")
    work = tmp_path_factory.mktemp("faults")
    landing, out = copy_run(clean.landing, clean.out, work)
    # <out>/.published on a 20 MB tmpfs for the whole chain (the full disk of the last run)
    versions = out / ".published"
    saved = work / "published-versions"
    versions.rename(saved)
    versions.mkdir()
    try:
        _mount_tmpfs(versions, "20m")
    except subprocess.CalledProcessError as exc:
        missing(f"the fault chain cannot mount a tmpfs here: {exc.stderr.decode(errors='replace').strip()}")
    try:
        subprocess.run(["cp", "-a", f"{saved}/.", str(versions)], check=True)
        good = snapshot(out)
        yield _chain(landing, out, work, good, postgres_target)
    finally:
        make_writable(versions)
        subprocess.run(["umount", str(versions)], check=False)
        make_writable(work)


def _chain(landing: Path, out: Path, work: Path, good: dict, postgres_target) -> dict:
    versions = out / ".published"
    record: dict = {"landing": landing, "out": out, "good": good, "after": {}}

    # 1. kill -9 during ingestion: an ingestion step has started and is loading batches
    run = start_materialize(landing, out, extra_args=FULL_REFRESH)
    step = run.wait_for_step(is_ingestion)
    time.sleep(0.5)
    run.kill()
    record["after"]["ingestion"] = (step, snapshot(out))

    # 2. kill -9 during dbt: the next run gets through ingestion (the killed run's pool slot is given
    #    back), dbt starts its subprocess (the run's first dbt step) and is building models
    run = start_materialize(landing, out, extra_args=FULL_REFRESH)
    step = run.wait_for_step(is_dbt, timeout=1200)
    record["ingestion_rerun_steps"] = [k for t, k in run.events() if t == "STEP_SUCCESS" and is_ingestion(k)]
    dbt_procs = _dbt_started(run)
    run.kill()
    record["after"]["dbt"] = (step, snapshot(out))
    # dbt was a child of the killed process: it must not go on writing the warehouse
    deadline = time.monotonic() + 120
    while any(alive(p) for p in dbt_procs) and time.monotonic() < deadline:
        time.sleep(0.5)
    record["orphans"] = [p for p in dbt_procs if alive(p)]
    for p in record["orphans"]:
        os.kill(p, signal.SIGKILL)

    # 3. SIGTERM to the strata process alone while dbt runs (as `kill <pid>`, or a service manager):
    #    the run must end, dbt with it, not be retried (docs/operations.md). A plain rerun: every
    #    batch is loaded, and the killed build is unfinished, so dbt rebuilds everything
    #    (docs/incremental.md) without the run loading every month again.
    run = start_materialize(landing, out)
    run.wait_for_step(is_dbt, timeout=1200)
    dbt_procs = _dbt_started(run)
    os.kill(run.proc.pid, signal.SIGTERM)
    try:
        code = run.proc.wait(timeout=SIGTERM_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        code = None
        run.kill_group()
    record["sigterm"] = {"code": code, "dbt_left": [p for p in dbt_procs if alive(p)], "snapshot": snapshot(out),
                         "output": run.output(), "events": run.events()}

    # 4. kill -9 while the publication is written: freeze the process at random points of the
    #    publishing step until a version folder is being written, then kill it there (a plain
    #    rerun again: the interrupted build is unfinished)
    run = start_materialize(landing, out)
    run.wait_for_step("published_marts", timeout=1800)
    record["dbt_rerun_ok"] = "dbt_models" in [k for t, k in run.events() if t == "STEP_SUCCESS"]
    caught = False
    for _ in range(2000):
        os.kill(run.proc.pid, signal.SIGSTOP)
        writing = [p for p in versions.glob("*.tmp") if any(p.iterdir())]
        if writing:
            caught = True
            break
        os.kill(run.proc.pid, signal.SIGCONT)
        if run.proc.poll() is not None:
            break
        time.sleep(0.002)
    run.kill()
    record["caught_mid_write"] = caught
    record["after"]["publishing"] = ("published_marts", snapshot(out))
    record["tmp_left"] = sorted(p.name for p in versions.glob("*.tmp"))

    # 5. a truncated Parquet part in the landing: that batch is refused, nothing is published
    batch = landing / "erp" / "fx_rates" / max(p.name for p in (landing / "erp" / "fx_rates").iterdir())
    kept = work / "fx-batch"
    shutil.copytree(batch, kept)
    part = next(batch.glob("part-*.csv"))
    con = duckdb.connect()
    parquet = batch / "part-0001.parquet"
    con.execute(f"COPY (SELECT * FROM read_csv('{part}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)")
    con.close()
    data = parquet.read_bytes()
    parquet.write_bytes(data[: len(data) * 2 // 3])
    for p in batch.iterdir():
        if p != parquet:
            p.unlink()
    run = start_materialize(landing, out)
    record["truncated"] = (run.wait(), run.output(), snapshot(out),
                           [k for t, k in run.events() if t == "STEP_START"])
    shutil.rmtree(batch)
    shutil.copytree(kept, batch)

    # 6. the plain rerun after the faults (publishing to PostgreSQL too, with secrets in the
    #    environment): it meets the warehouse locked by another process (the step waits and retries),
    #    then a full disk while publishing (the step fails, is retried, and completes once there is
    #    space again)
    free = os.statvfs(versions)
    ballast = versions / "_ballast"
    with open(ballast, "wb") as fh:
        fh.write(b"\0" * max(0, free.f_bavail * free.f_frsize - 64 * 1024))
    holder = subprocess.Popen(
        # a read-write connection holds DuckDB's exclusive lock on the file
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(3600)", str(out / "warehouse.duckdb")],
        stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    run = start_materialize(landing, out, env=postgres_target.env)
    run.wait_for("a step waiting for the locked warehouse",
                 lambda: any(t == "STEP_UP_FOR_RETRY" for t, _ in run.events()), timeout=1200)
    record["locked"] = snapshot(out)
    holder.kill()
    holder.wait()
    run.wait_for("the full disk at publishing",
                 lambda: any(t == "STEP_UP_FOR_RETRY" and k == "published_marts" for t, k in run.events()),
                 timeout=1800)
    record["disk_full"] = (snapshot(out), sorted(p.name for p in versions.glob("*.tmp")))
    ballast.unlink()
    code = run.wait()
    record["rerun"] = record["recovered"] = (code, run.output())
    if code != 0:  # the retry did not cure it: a plain rerun must
        rerun = start_materialize(landing, out, env=postgres_target.env)
        record["recovered"] = (rerun.wait(), rerun.output())
    record["rows"] = published_rows(out)
    return record


# How long a SIGTERMed run may take to end: dbt is sent SIGINT and waited for, nothing else runs.
SIGTERM_BOUND_SECONDS = 120


def _dbt_started(run) -> list[int]:
    """Wait until the run's dbt subprocess runs and has had a few seconds to build; its pids."""
    run.wait_for("dbt started", lambda: any(b"dbt" in _cmdline(c) for c in children(run.proc.pid)))
    time.sleep(5)
    return [c for c in children(run.proc.pid) if b"dbt" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_killed_run_leaves_the_last_good_published_copy(faults):
    for phase, (step, snap) in faults["after"].items():
        assert snap == faults["good"], f"the published copy changed after a kill during {phase} ({step})"
    assert faults["caught_mid_write"], "the publishing step was never caught while writing its version"
    assert faults["tmp_left"], "the killed publication left no partial version (was it really mid-write?)"


def test_the_run_after_a_kill_gets_through_the_killed_phase(faults):
    assert len(faults["ingestion_rerun_steps"]) == 16  # every ingestion step of the run after the kill
    assert faults["dbt_rerun_ok"]
    assert faults["orphans"] == [], "dbt kept running after its strata process was killed"


def test_a_sigterm_ends_the_run_and_dbt_and_publishes_nothing(faults):
    """Dagster turns a SIGTERM into its interrupt; a step with a retry policy would turn that into a
    retry, and the run would go on, publish and exit 0."""
    sigterm = faults["sigterm"]
    assert sigterm["code"] is not None, f"the run did not end within {SIGTERM_BOUND_SECONDS} s of SIGTERM"
    assert sigterm["code"] != 0, sigterm["output"][-6000:]
    assert sigterm["dbt_left"] == [], "dbt kept running after its run was interrupted"
    assert sigterm["snapshot"] == faults["good"], "the published copy changed after a SIGTERM"
    assert "the run was interrupted" in sigterm["output"]
    kinds = [t for t, _ in sigterm["events"]]
    # stored under Dagster's own names (RUN_FAILURE is "PIPELINE_FAILURE" in the event log)
    failure, success = dg.DagsterEventType.RUN_FAILURE.value, dg.DagsterEventType.RUN_SUCCESS.value
    assert failure in kinds and success not in kinds
    assert "STEP_UP_FOR_RETRY" not in kinds
    assert "published_marts" not in [k for t, k in sigterm["events"] if t == "STEP_START"]


def test_a_plain_rerun_after_the_kills_equals_a_clean_run(faults, clean):
    code, output = faults["rerun"]
    assert code == 0, output[-6000:]
    out = faults["out"]
    no_tmp_left_visible(out)
    assert not list((out / ".published").glob("*.tmp")), "the rerun did not clear the killed publication"
    assert snapshot(out)["version"] != faults["good"]["version"]
    assert_same_rows(published_rows(out), clean.rows)


def test_secrets_never_reach_the_event_log_or_the_output(faults):
    """STRATA_POSTGRES_URL's password and STRATA_ALERT_WEBHOOK_URL were in the rerun's environment."""
    out = faults["out"]
    code, output = faults["rerun"]
    assert code == 0
    needles = [SECRET_PASSWORD.encode(), SECRET_WEBHOOK.encode(), b"rel-secret-token"]
    dbs = event_dbs(out) + [out / "dagster_home" / "history" / "runs" / "index.db",
                            out / "dagster_home" / "history" / "runs.db"]
    scanned = 0
    for root, _dirs, files in os.walk(out):
        for name in files:
            path = Path(root, name)
            if path.is_symlink():
                continue
            data = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle not in data, f"{needle!r} found in {path}"
    assert scanned > 10 and all(p.exists() for p in dbs)
    for needle in needles:
        assert needle.decode() not in output
    # the rerun did publish to PostgreSQL (so the URL was really used)
    assert b"postgres_marts" in (out / "dagster_home" / "history" / "runs" / "index.db").read_bytes()


def test_the_bi_role_reads_the_marts_and_nothing_else(faults, postgres_target):
    code, _ = faults["rerun"]
    assert code == 0
    postgres_target.check_least_privilege()


def test_a_truncated_parquet_part_refuses_its_batch_and_publishes_nothing(faults):
    code, output, snap, started = faults["truncated"]
    assert code != 0
    assert "erp/fx_rates/" in output and "part-0001.parquet" in output
    assert snap == faults["good"]
    assert "published_marts" not in started and "dbt_models" not in started


def test_a_locked_warehouse_is_waited_for_and_a_full_disk_never_shows(faults, clean):
    assert faults["locked"] == faults["good"]
    snap, tmp_left = faults["disk_full"]
    assert snap == faults["good"]
    assert tmp_left == [], "a failed publication left its partial version behind"
    code, output = faults["recovered"]
    assert code == 0, output[-6000:]
    assert_same_rows(faults["rows"], clean.rows)

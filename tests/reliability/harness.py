"""Helpers of the reliability tests: real `strata materialize` processes, their Dagster event log,
snapshots of the published copy and a row-for-row comparison of every published table.

Nothing here reaches into production code paths: a run is the real CLI in a subprocess, its phase
is read from the Dagster instance it writes (`<out>/dagster_home`, SQLite event log), and faults are
made from outside (signals, mounts, files, a second process holding the warehouse).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from assets.publishing import LINK_NAME, VERSIONS_DIR, open_published, sql_literal

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# Columns of the published tables that legitimately differ between two runs over the same input:
# the time a batch was loaded. Everything else must be equal, row for row.
VOLATILE_COLUMNS = {"audit_load_batches": {"loaded_at"}}


# --------------------------------------------------------------------------------------------------
# Folders


def copy_tree(src: Path, dst: Path) -> Path:
    """A copy that keeps symbolic links (the relative `published` link) as links."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def make_writable(root: Path) -> None:
    """The published versions are read-only; make a tree removable."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)


def copy_run(landing: Path, out: Path, dst: Path) -> tuple[Path, Path]:
    """Copy a materialised landing folder and output folder under `dst` (landing/, out/)."""
    dst.mkdir(parents=True, exist_ok=True)
    return copy_tree(landing, dst / "landing"), copy_tree(out, dst / "out")


# --------------------------------------------------------------------------------------------------
# A `strata materialize` process


@dataclass
class RunProcess:
    proc: subprocess.Popen
    out: Path
    log: Path
    known_runs: set[str]

    def run_db(self) -> Path | None:
        """The event log (SQLite) of this process's Dagster run, once it exists."""
        for db in sorted(event_dbs(self.out)):
            if db.stem not in self.known_runs:
                return db
        return None

    def events(self) -> list[tuple[str, str | None]]:
        """(event type, step key) of every event of the run so far, in order."""
        db = self.run_db()
        if db is None:
            return []
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                return con.execute(
                    "SELECT dagster_event_type, step_key FROM event_logs ORDER BY id").fetchall()
            finally:
                con.close()
        except sqlite3.Error:  # the file is being created
            return []

    def started_steps(self) -> list[str]:
        return [k for t, k in self.events() if t == "STEP_START"]

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = 900,
                 poll: float = 0.05) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                raise AssertionError(f"the run ended (exit {self.proc.returncode}) before {what}:\n"
                                     + self.output()[-4000:])
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"timed out waiting for {what}:\n" + self.output()[-4000:])
            time.sleep(poll)

    def wait_for_step(self, step: Callable[[str], bool] | str, timeout: float = 900) -> str:
        """Wait until a step whose key matches has started; returns its key."""
        match = step if callable(step) else (lambda k: k == step)
        found: list[str] = []

        def started() -> bool:
            found[:] = [k for k in self.started_steps() if match(k)]
            return bool(found)

        self.wait_for(f"step {step}", started, timeout)
        return found[0]

    def kill(self) -> None:
        """SIGKILL the `strata materialize` process itself (not its children)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)

    def kill_group(self) -> None:
        """SIGKILL the process and every child it started (dbt)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)

    def wait(self, timeout: float = 1800) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            raise AssertionError("the run did not finish in time:\n" + self.output()[-4000:]) from None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def event_dbs(out: Path) -> list[Path]:
    runs = out / "dagster_home" / "history" / "runs"
    if not runs.is_dir():
        return []
    return [p for p in runs.glob("*.db") if p.stem != "index"]


def start_materialize(landing: Path, out: Path, env: dict | None = None,
                      extra_args: Iterable[str] = ()) -> RunProcess:
    """`strata materialize --landing L --out O` in its own process group, output to a log file."""
    known = {p.stem for p in event_dbs(out)}
    log = out.parent / f"materialize-{time.time_ns()}.log"
    fh = open(log, "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [PYTHON, "-m", "orchestration.cli", "materialize", "--landing", str(landing), "--out", str(out),
         *extra_args],
        cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    fh.close()
    return RunProcess(proc, out, log, known)


def materialize_ok(landing: Path, out: Path, env: dict | None = None) -> RunProcess:
    """A plain run that must succeed."""
    run = start_materialize(landing, out, env)
    code = run.wait()
    assert code == 0, f"the run failed (exit {code}):\n{run.output()[-6000:]}"
    return run


def children(pid: int) -> list[int]:
    """Every descendant process of `pid` (from /proc)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
                todo.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --------------------------------------------------------------------------------------------------
# The published copy


def published_version(out: Path) -> Path:
    return Path(os.path.realpath(out / LINK_NAME))


def snapshot(out: Path) -> dict:
    """What a reader of `<out>/published` sees: the version it resolves to and every file's sha256."""
    version = published_version(out)
    files = {}
    for p in sorted(version.rglob("*")):
        if p.is_file():
            files[p.relative_to(version).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return {"version": version.name, "files": files}


def published_rows(out: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, in a defined order (all columns, in column order), without
    the volatile columns; resolved through one version of the copy."""
    copy = open_published(out)
    result = {}
    con = duckdb.connect()
    try:
        for name in sorted(copy.tables):
            cols = [c["name"] for c in copy.tables[name]["columns"]
                    if c["name"] not in VOLATILE_COLUMNS.get(name, set())]
            select = ", ".join('"' + c.replace('"', '""') + '"' for c in cols)
            rows = con.execute(
                f"SELECT {select} FROM read_parquet({sql_literal(copy.parquet(name))}) ORDER BY ALL"
            ).fetchall()
            # the DuckDB file of the same version must hold the same rows
            dcon = duckdb.connect(str(copy.duckdb_file), read_only=True)
            try:
                again = dcon.execute(f'SELECT {select} FROM "{name}" ORDER BY ALL').fetchall()
            finally:
                dcon.close()
            assert rows == again, f"{name}: Parquet and marts.duckdb differ"
            result[name] = [tuple(cols)] + rows
    finally:
        con.close()
    return result


def assert_same_rows(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> None:
    """Every published table equal, row for row; the message names the first difference."""
    assert sorted(actual) == sorted(expected), f"tables differ: {sorted(actual)} vs {sorted(expected)}"
    for name in sorted(expected):
        a, e = actual[name], expected[name]
        assert a[0] == e[0], f"{name}: columns differ: {a[0]} vs {e[0]}"
        if a != e:
            extra = sorted(set(a[1:]) - set(e[1:]))[:3]
            missing = sorted(set(e[1:]) - set(a[1:]))[:3]
            raise AssertionError(f"{name}: {len(a) - 1} rows vs {len(e) - 1} expected; "
                                 f"e.g. unexpected {extra}, missing {missing}")


def no_tmp_left_visible(out: Path) -> None:
    """The link points at a complete version (never a `.tmp` folder) that holds its manifest."""
    version = published_version(out)
    assert version.parent.name == VERSIONS_DIR
    assert not version.name.endswith(".tmp"), version
    assert (version / "_publication.json").is_file()


def as_decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))

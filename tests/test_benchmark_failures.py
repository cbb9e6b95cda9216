"""A failed baseline in a benchmark record says what failed (benchmarks/measure.py: failure_line), and
the DuckDB script out of memory under the pipeline's limit gets one more try with more (benchmarks/run.py)."""

from benchmarks import run
from benchmarks.measure import Measured, failure_line

DUCKDB_OUT_OF_MEMORY = """Traceback (most recent call last):
  File "duckdb_runner.py", line 40, in main
    con.execute(sql)
duckdb.duckdb.OutOfMemoryException: Out of Memory Error: failed to allocate data of size 16.0 MiB (3.7 GiB/3.7 GiB used)

Possible solutions:
* Reducing the number of threads (SET threads=X)
* Increasing the memory limit (SET memory_limit='...GB')

See also https://duckdb.org/docs/current/guides/performance/how_to_tune_workloads
"""


def test_the_exception_line_not_duckdbs_advice():
    assert failure_line(DUCKDB_OUT_OF_MEMORY) == (
        "duckdb.duckdb.OutOfMemoryException: Out of Memory Error: failed to allocate data of size "
        "16.0 MiB (3.7 GiB/3.7 GiB used)")


def test_without_an_exception_the_last_line_and_nothing_for_no_output():
    assert failure_line("loading\nkilled by the cap\n") == "killed by the cap"
    assert failure_line("  \n") is None


def _measured(returncode: int, stderr: str = "", stdout: str = "") -> Measured:
    return Measured(returncode=returncode, wall=1.0, started=0.0, ended=1.0, peak_rss=0, sampler=None,
                    stdout=stdout, stderr=stderr, load_before=(0, 0, 0), load_after=(0, 0, 0))


def test_a_baseline_out_of_memory_runs_once_more_with_half_again_the_memory(monkeypatch, tmp_path):
    limits = []

    def fake_run(cmd, cwd):
        limits.append(cmd[cmd.index("--memory-limit") + 1])
        if len(limits) == 1:
            return _measured(1, stderr=DUCKDB_OUT_OF_MEMORY)
        return _measured(0, stdout='{"compute_seconds": 1.0, "rows": 3}\n')

    monkeypatch.setattr(run, "duckdb_settings", lambda: {"threads": 2, "memory_limit": "4GB"})
    monkeypatch.setattr(run, "run_measured", fake_run)
    monkeypatch.setattr(run, "ROOT", tmp_path)
    result = run.run_duckdb_baseline(tmp_path / "landing", tmp_path, tmp_path, tmp_path)
    assert limits == ["4GB", "6GB"]
    assert result["status"] == "ok" and result["settings"]["memory_limit"] == "6GB"
    assert result["first_attempt"]["status"] == "failed"
    assert "OutOfMemoryException" in result["first_attempt"]["error"]


def test_any_other_baseline_failure_is_recorded_as_it_is(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(run, "duckdb_settings", lambda: {"threads": 2, "memory_limit": "4GB"})
    monkeypatch.setattr(run, "run_measured", lambda cmd, cwd: calls.append(cmd) or _measured(1, "IOException: no file"))
    result = run.run_duckdb_baseline(tmp_path / "landing", tmp_path, tmp_path, tmp_path)
    assert len(calls) == 1 and result["status"] == "failed" and result["error"] == "IOException: no file"
    assert run.larger_memory_limit("4GB") == "6GB" and run.larger_memory_limit("80%") is None

"""A failed baseline in a benchmark record says what failed (benchmarks/measure.py: failure_line)."""

from benchmarks.measure import failure_line

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

"""The Spark dbt target beside the DuckDB one, on one benchmark size (docs/spark.md).

    uv run python -m benchmarks.spark_target --size M [--targets duckdb,spark] [--spark-memory 8g]

Uses benchmarks/run.py's machinery (the cached extracts, the measured `strata materialize` in a
child process, the split into stages) and runs the committed code: a git worktree of HEAD of its own
(benchmarks/.cache/spark_worktree; `--in-place` runs the checkout as it is, other engineers'
uncommitted edits included), so it never moves benchmarks/run.py's worktree under a run of that
harness. For each target it runs the
whole pipeline once over the size's `months` months in a fresh output folder, with
STRATA_DBT_TARGET set to that target; then compares every published mart of the two runs (DECIMAL
exactly, DOUBLE to 1e-9) and writes docs/benchmarks/spark-<size>-<UTC time>.json. A failed run is
recorded as such (with the tail of its output) and the other target still runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import time
from pathlib import Path

from benchmarks.run import (
    CACHE,
    DOCS,
    ROOT,
    SIZES,
    code_root,
    ensure_source,
    landing_rows,
    link_months,
    log,
    machine,
    run_pipeline,
    source_months,
)

WORKTREE = CACHE / "spark_worktree"


def compare_published(a_out: Path, b_out: Path, tolerance: float = 1e-9) -> dict:
    """Every mart of two published copies: rows, and values that differ (DECIMAL exact, DOUBLE ±tol)."""
    import duckdb

    from assets.publishing import MART_KEYS, open_published

    a, b = open_published(a_out), open_published(b_out)
    out: dict = {}
    for mart, key in MART_KEYS.items():
        if mart not in a.tables or mart not in b.tables:
            out[mart] = {"missing": True}
            continue
        with duckdb.connect() as con:
            order = ", ".join(key)
            ra = con.execute(f"SELECT * FROM read_parquet('{a.parquet(mart)}') ORDER BY {order}").fetchall()
            rb = con.execute(f"SELECT * FROM read_parquet('{b.parquet(mart)}') ORDER BY {order}").fetchall()
        diffs = 0
        for x, y in zip(ra, rb, strict=False):
            for u, v in zip(x, y, strict=True):
                if isinstance(u, float) and isinstance(v, float):
                    diffs += not math.isclose(u, v, rel_tol=tolerance, abs_tol=tolerance)
                else:  # DECIMAL, dates, text: exactly, and of the same type
                    diffs += not (type(u) is type(v) and u == v)
        out[mart] = {"rows": [len(ra), len(rb)], "values_differing": diffs}
    same = all(not v.get("missing") and v["rows"][0] == v["rows"][1] and v["values_differing"] == 0
               for v in out.values())
    return {"same": same, "marts": out}


def main() -> None:
    parser = argparse.ArgumentParser(description="strata: the Spark dbt target beside DuckDB")
    parser.add_argument("--size", default="S", choices=sorted(SIZES))
    parser.add_argument("--targets", default="duckdb,spark", help="comma-separated, run in this order")
    parser.add_argument("--spark-memory", default="8g", help="the local Spark driver's memory (default 8g)")
    parser.add_argument("--keep", action="store_true", help="keep the output folders")
    parser.add_argument("--in-place", action="store_true", help="run the checkout as it is")
    args = parser.parse_args()
    size = SIZES[args.size]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    # Its own worktree, so it never moves benchmarks/run.py's under a run of that harness.
    code, commit = code_root(args.in_place, worktree=WORKTREE)
    log(f"code under test: {code} ({commit})")

    src = ensure_source(size)
    months = source_months(src)[:-1]  # the benchmark's full run: all but the held-back month
    work = CACHE / size.name / "spark_work"
    shutil.rmtree(work, ignore_errors=True)
    logs = work / "logs"
    logs.mkdir(parents=True)
    landing = work / "landing"
    link_months(src, landing, months)
    rows = landing_rows(src, months)
    result: dict = {
        "size": size.name, "customers": size.customers, "months": size.months,
        "first_month": months[0], "last_month": months[-1], "landing_rows": rows,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "spark": {
            "master": os.environ.get("STRATA_SPARK_MASTER", "local[2]"),
            "driver_memory": args.spark_memory,
            "shuffle_partitions": os.environ.get("STRATA_SPARK_SHUFFLE_PARTITIONS", "2"),
            "codegen": os.environ.get("STRATA_SPARK_CODEGEN", "true"),
            "adaptive": os.environ.get("STRATA_SPARK_ADAPTIVE", "true"),
        },
        "runs": {},
    }
    os.environ["STRATA_SPARK_DRIVER_MEMORY"] = args.spark_memory
    for target in targets:
        os.environ["STRATA_DBT_TARGET"] = target  # the child process inherits it
        out = work / f"out_{target}"
        start = time.time()
        try:
            run = run_pipeline(f"full_{target}", landing, out, None, rows, logs, code)
        except SystemExit as exc:  # run_pipeline's way of saying the run failed
            run = {"failed": str(exc)[-3000:], "wall_seconds": round(time.time() - start, 1)}
        result["runs"][target] = run
        shown = {k: run.get(k) for k in ("wall_seconds", "dbt_step_seconds", "failed")}
        log(f"{target}: {json.dumps(shown)}")
    if set(targets) >= {"duckdb", "spark"} and not any("failed" in r for r in result["runs"].values()):
        result["correctness"] = compare_published(work / "out_duckdb", work / "out_spark")
        log(f"spark vs duckdb published marts: {'same' if result['correctness']['same'] else 'DIFFERENT'}")
    result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result["machine"] = machine(commit)
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"spark-{size.name}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M')}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    log(f"wrote {path.relative_to(ROOT)}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

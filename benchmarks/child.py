"""One measured `strata materialize`, in its own process (benchmarks/run.py starts it).

    python -m benchmarks.child --landing DIR --out DIR --markers FILE [--months M,...] [--ingestion-only]

It calls `orchestration.runner.materialize` exactly as `strata materialize` does, and writes the
epoch times of its phases (imports, dbt manifest preparation, Definitions) and the run report to
FILE as JSON, so the parent can split the fixed overhead from the work.
"""

from __future__ import annotations

import time

T0 = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--markers", type=Path, required=True)
    parser.add_argument("--months", default=None, help="comma-separated months (the update run)")
    parser.add_argument("--ingestion-only", action="store_true", help="load the batches only")
    args = parser.parse_args()
    marks: dict = {"t0": T0}

    def timed(name, fn):
        def wrapper(*a, **k):
            start = time.time()
            try:
                return fn(*a, **k)
            finally:
                marks[name] = [start, time.time()]

        return wrapper

    from orchestration import runner

    marks["runner_imported"] = time.time()
    # materialize() prepares the dbt manifest first, then imports the Definitions: time both as it
    # runs them (the wrappers only record when they start and end).
    runner.prepare_dbt = timed("prepare_dbt", runner.prepare_dbt)
    import orchestration.definitions as definitions

    definitions.build_definitions = timed("build_definitions", definitions.build_definitions)
    start = time.time()
    kwargs = {"months": args.months.split(",")} if args.months else {}
    if args.ingestion_only:
        kwargs["ingestion_only"] = True
    report = runner.materialize(args.landing, args.out, **kwargs)
    marks["materialize"] = [start, time.time()]
    marks["report"] = {
        "success": report.success,
        "run_id": report.run_id,
        "months": report.months,
        "failures": report.failures,
        "materialized": len(report.materialized),
        "nothing_changed": report.nothing_changed,
    }
    args.markers.write_text(json.dumps(marks, indent=1))
    # Leave as `strata` does (orchestration/cli.py: main), without the interpreter's teardown: its
    # final garbage collection over Dagster's and dbt's objects took seconds the command never pays.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if report.success else 1)


if __name__ == "__main__":
    main()

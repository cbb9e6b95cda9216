"""Runs profit_duckdb.sql on a landing folder and writes its fct_customer_profit_monthly to Parquet.

    python -m benchmarks.baselines.duckdb_runner --landing DIR --out fct.parquet [--threads N]
        [--memory-limit 6GB] [--temp-dir DIR]

The script runs in an in-memory database with the landing root as working directory (its read_csv
paths are relative). The time of the script alone is printed as JSON (`compute_seconds`); writing
the Parquet file for the comparison is not part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).with_name("profit_duckdb.sql")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--temp-dir", default=None)
    args = parser.parse_args()
    out = args.out.resolve()
    sql = SCRIPT.read_text()
    os.chdir(args.landing)
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
    if args.temp_dir:
        con.execute(f"SET temp_directory = '{args.temp_dir}'")
    start = time.time()
    con.execute(sql)
    compute = time.time() - start
    rows = con.execute("SELECT count(*) FROM fct_customer_profit_monthly").fetchone()[0]
    con.execute(f"COPY fct_customer_profit_monthly TO '{out}' (FORMAT parquet)")
    print(json.dumps({"compute_seconds": compute, "rows": rows}))


if __name__ == "__main__":
    main()

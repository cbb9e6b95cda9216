"""Throughput of `load_batch` on one large generated sales_lines batch (not a test; run by hand).

    .venv/bin/python tests/ingestion/bench_load.py [ROWS] [--parts N]

Writes the batch with DuckDB's COPY (fast, contract-shaped CSV with a manifest), loads it into a
fresh warehouse, prints rows/s (wall clock) and rows per CPU-second (all threads of the process;
less sensitive to other jobs on a shared machine). Everything lives in a temporary folder that is
removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assets.core.contract import (
    entity,  # noqa: E402
    sha256_file,  # noqa: E402
)
from assets.ingestion.loader import load_batch  # noqa: E402

ROW_SQL = """
SELECT CASE WHEN i % 10 = 0 THEN 'CREDIT_MEMO' ELSE 'INVOICE' END AS document_type,
       'D' || (i // 5) AS document_no, i % 5 + 1 AS line_no,
       DATE '2026-10-01' + CAST(i % 31 AS INTEGER) AS posting_date,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 'SO' || (i // 5) END AS order_no,
       'C' || lpad(CAST(i % 5000 AS VARCHAR), 5, '0') AS customer_no,
       'IT' || (i % 20000) AS item_no,
       CAST(i % 7 + 1 AS DECIMAL(18,2)) AS quantity, CAST(12.5 + i % 100 AS DECIMAL(18,2)) AS unit_price,
       CAST(0 AS DECIMAL(18,2)) AS line_discount_amount,
       CAST((i % 7 + 1) * (12.5 + i % 100) AS DECIMAL(18,2)) AS net_amount, 'USD' AS currency,
       CAST((i % 7 + 1) * (9.125 + i % 100) AS DECIMAL(18,3)) AS cost_amount_lcy,
       (['EDI', 'API', 'PORTAL', 'EMAIL', 'PHONE'])[i % 5 + 1] AS order_channel,
       i % 9 = 0 AS is_drop_ship, CASE WHEN i % 9 = 0 THEN NULL ELSE 'W1' END AS warehouse_code,
       CASE WHEN i % 10 = 0 THEN 'DEFECTIVE' END AS return_reason
FROM range({start}, {stop}) AS t(i)
"""


def write(root: Path, rows: int, parts: int) -> Path:
    ent = entity("erp", "sales_lines")
    bdir = root / "erp" / "sales_lines" / "2026-10"
    bdir.mkdir(parents=True)
    con = duckdb.connect()
    files, per = [], -(-rows // parts)
    for p in range(parts):
        path = bdir / f"part-{p + 1:04d}.csv"
        start, stop = p * per, min(rows, (p + 1) * per)
        con.execute(f"COPY ({ROW_SQL.format(start=start, stop=stop)}) TO '{path}' (HEADER, DELIMITER ',')")
        files.append({"name": path.name, "rows": stop - start, "sha256": sha256_file(path)})
    totals = con.execute(
        "SELECT " + ", ".join(f"CAST(sum({c.name}) AS VARCHAR)" for c in ent.columns if c.type == "decimal")
        + f" FROM ({ROW_SQL.format(start=0, stop=rows)})"
    ).fetchone()
    names = [c.name for c in ent.columns if c.type == "decimal"]
    (bdir / "_manifest.json").write_text(json.dumps({
        "system": "erp", "entity": "sales_lines", "batch": "2026-10", "files": files,
        "control_totals": dict(zip(names, totals, strict=True))}))
    return bdir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int, nargs="?", default=5_000_000)
    ap.add_argument("--parts", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    try:
        bdir = write(tmp / "landing", args.rows, args.parts)
        size = sum(p.stat().st_size for p in bdir.iterdir())
        con = duckdb.connect(str(tmp / "warehouse.duckdb"))
        for attempt in ("first load", "re-delivery (replace)"):
            t, cpu = time.perf_counter(), time.process_time()
            result = load_batch(con, tmp / "landing", "erp", "sales_lines", "2026-10")
            secs, cpu = time.perf_counter() - t, time.process_time() - cpu
            print(f"{attempt}: {result.status} {result.rows_loaded:,} rows loaded, "
                  f"{result.rows_quarantined:,} quarantined, {size / 1e6:,.0f} MB in {secs:.1f} s "
                  f"= {result.rows_read / secs:,.0f} rows/s (CPU {cpu:.1f} s on all threads = "
                  f"{result.rows_read / cpu:,.0f} rows per CPU-second)")
            if result.refused:
                print(result.message)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

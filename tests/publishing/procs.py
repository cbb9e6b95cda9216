"""Helper processes for the publishing tests (run as `python -m tests.publishing.procs <role> ...`).

- `reader OUT STOP_FILE`: reads the published copy in a loop until STOP_FILE exists, the way a BI
  tool would (resolve the link once and read every table's Parquet; open marts.duckdb read-only
  through the link), and prints one JSON line: reads, errors, mixed reads, run ids seen.
- `publisher WAREHOUSE OUT`: restamps the warehouse and publishes it, forever (the test kills it).
"""

import json
import sys
import time
import traceback
from pathlib import Path

import duckdb


def read_once(out: Path) -> tuple[set[str], set[str]]:
    """Run ids seen through the Parquet files (one resolved version) and through marts.duckdb."""
    from assets.publishing import open_published, sql_literal

    copy = open_published(out)
    parquet_ids = {copy.run_id}
    with duckdb.connect() as con:
        for name in copy.tables:
            rows = con.execute(
                f"SELECT DISTINCT run_id FROM read_parquet({sql_literal(copy.parquet(name))})"
            ).fetchall()
            parquet_ids |= {r[0] for r in rows}
    duckdb_ids: set[str] = set()
    with duckdb.connect(str(out / "published" / "marts.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for name in tables:
            duckdb_ids |= {r[0] for r in con.execute(f'SELECT DISTINCT run_id FROM "{name}"').fetchall()}
    return parquet_ids, duckdb_ids


def reader(out: Path, stop: Path) -> None:
    reads, errors, mixed, seen = 0, [], [], set()
    while not stop.exists():
        try:
            parquet_ids, duckdb_ids = read_once(out)
        except Exception:
            errors.append(traceback.format_exc(limit=3))
            continue
        reads += 1
        for ids in (parquet_ids, duckdb_ids):
            if len(ids) != 1:
                mixed.append(sorted(ids))
            seen |= ids
    print(
        json.dumps(
            {
                "reads": reads,
                "errors": errors[:5],
                "error_count": len(errors),
                "mixed": mixed[:5],
                "seen": sorted(seen),
            }
        )
    )


def publisher(warehouse: Path, out: Path) -> None:
    from assets.publishing import publish_version
    from tests.publishing.fixture import restamp

    i = 0
    while True:
        i += 1
        run_id = f"kill-{i:04d}-{time.time_ns()}"
        restamp(warehouse, run_id)
        print("begin", run_id, flush=True)
        publish_version(warehouse, out, run_id)
        print("end", run_id, flush=True)


if __name__ == "__main__":
    role, *args = sys.argv[1:]
    if role == "reader":
        reader(Path(args[0]), Path(args[1]))
    elif role == "publisher":
        publisher(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(f"unknown role {role}")

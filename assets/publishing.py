"""The published copy: every mart (and the audit tables) as Parquet, swapped in atomically.

BI tools and finance read `<out>/published/<table>/*.parquet` (or `<out>/published/marts.duckdb`,
which DuckDB readers older than 2.0 can open), never the live warehouse. The copy is
written into a new version folder and `<out>/published` (a symbolic link) is then repointed in
one `rename`, so a reader sees the old copy or the new one, never a mix, and a failed run leaves the
last good copy in place.
"""


import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.resources import StrataPaths

# The public interface of shared/spec/marts.md, in its order, with each table's key (the sort order
# of the published rows, so equal inputs give equal files).
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_customer_profit_monthly": ("month", "customer_no"),
    "fct_cost_to_serve_monthly": ("month", "customer_no", "activity"),
    "customer_segments": ("month", "customer_no"),
    "segment_kpis": ("month", "segmentation", "segment"),
    "segment_transitions": ("month", "segmentation", "from_segment", "to_segment"),
    "kpi_target_status": ("month", "segmentation", "segment", "kpi"),
    "margin_reconciliation": ("month", "line_item"),
    "account_playbook": ("customer_no",),
}
AUDIT_KEYS: dict[str, tuple[str, ...]] = {
    "load_batches": ("system", "entity", "batch", "file"),
    "quarantined_rows": ("system", "entity", "batch", "file", "line", "column"),
}
# DuckDB 2.0 writes a storage format older readers cannot open; BI tools often bundle an older one.
PUBLISHED_DUCKDB = "marts.duckdb"
PUBLISHED_STORAGE_VERSION = "v1.0.0"
VERSIONS_KEPT = 2  # the current copy and the one before it (a reader may still be on it)


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, tuple[str, ...]]]:
    """(schema, table, key) of every table to publish that exists in the warehouse."""
    existing = {
        (s, t) for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    wanted = [("marts", t, k) for t, k in MART_KEYS.items()] + [("audit", t, k) for t, k in AUDIT_KEYS.items()]
    return [(s, t, k) for s, t, k in wanted if (s, t) in existing]


def publish(warehouse: Path, out: Path, run_id: str) -> dict[str, int]:
    """Export the tables into a new version folder and swap it in. Returns rows per table."""
    versions = out / ".published"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    version = versions / f"{stamp}-{run_id[:8]}"
    version.mkdir(parents=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"ATTACH '{version / PUBLISHED_DUCKDB}' AS published (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
        for schema, table, key in published_tables(con):
            name = table if schema == "marts" else f"audit_{table}"
            (version / name).mkdir()
            order = ", ".join(f'"{c}"' for c in key)
            target = version / name / "data.parquet"
            con.execute(
                f'COPY (SELECT * FROM "{schema}"."{table}" ORDER BY {order}) TO \'{target}\' (FORMAT parquet)'
            )
            con.execute(f"CREATE TABLE published.main.\"{name}\" AS SELECT * FROM read_parquet('{target}')")
            rows[name] = con.execute(f'SELECT count(*) FROM published.main."{name}"').fetchone()[0]
        con.execute("DETACH published")
    _swap_link(out / "published", version)
    _prune(versions, keep=VERSIONS_KEPT)
    return rows


def _swap_link(link: Path, target: Path) -> None:
    if link.exists() and not link.is_symlink():
        raise dg.Failure(f"{link} exists and is not the published-copy link; move it away and rerun")
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(target.relative_to(link.parent), target_is_directory=True)
    os.replace(tmp, link)  # atomic: readers see the old copy or the new one


def _prune(versions: Path, keep: int) -> None:
    for old in sorted(p for p in versions.iterdir() if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def build_published_marts(dbt_models: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The publishing asset, downstream of every mart the dbt project defines."""
    marts = sorted((k for k in dbt_models.keys if k.path[-1] in MART_KEYS), key=lambda k: k.to_user_string())

    @dg.asset(
        name="published_marts",
        group_name="publishing",
        deps=marts,
        description="The published copy of the marts and audit tables under <out>/published/ "
        "(Parquet, one folder a table), swapped in atomically after a successful run.",
        owners=["team:data-engineering"],
        kinds={"parquet"},
    )
    def published_marts(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
        rows = publish(paths.warehouse, paths.out, context.run_id)
        context.log.info(f"published {len(rows)} tables to {paths.published}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(paths.published)),
                "rows": dg.MetadataValue.json(rows),
                **{f"rows/{t}": n for t, n in rows.items()},
            }
        )

    return published_marts

"""The published copy: every mart and audit table as Parquet and in one DuckDB file, swapped in atomically.

BI tools and finance read `<out>/published/<table>/` (Parquet: one hive folder a month,
`month=YYYY-MM-DD/data.parquet`, for the monthly marts; `data.parquet` for the others) or
`<out>/published/marts.duckdb` (a DuckDB file in storage version v1.0.0, which DuckDB readers older
than 2.0 can open), never the live warehouse. A publication rewrites only the months the build
plans since the current version recomputed and links the others (assets/publishing/months.py).
How the copy stays consistent:

- Every publication is written into a new version folder `<out>/.published/<stamp>-<run>.tmp`,
  checked (row counts of both copies against the warehouse), described in `_publication.json`
  (run id, tables, keys, columns, rows, descriptions), flushed to disk, renamed to its final name
  and only then made current by repointing the symbolic link `<out>/published` with one `os.replace`. A reader
  sees the old copy or the new one, never a mix; a failed or killed publication leaves the link on
  the last good copy (its `.tmp` folder is removed by the next publication).
- A version folder is never written again once it is current, so readers (read-only) never meet a
  writer's lock. The files are made read-only, so a reader that forgets `read_only=True` gets an
  error instead of locking every other reader out.
- A superseded version is kept while a reader may still be on it: the newest `VERSIONS_KEPT`
  versions always, older ones until `GRACE_SECONDS` after they were superseded.
- One publisher at a time (an exclusive `flock` on `<out>/.published/.lock`).

Every table and column carries its description from the dbt manifest (assets/descriptions.py) as a
comment in `marts.duckdb`.

A reader that wants several tables consistent resolves the link once (`open_published(out)`, or
`os.path.realpath`) and reads every table from that folder, or reads `marts.duckdb`.
"""

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from assets.core.engines import attach_layers
from assets.core.retries import Transient
from assets.core.sql import sql_ident, sql_literal
from assets.descriptions import TableDescription, load_table_descriptions
from assets.publishing.months import (
    MONTH_COLUMN,
    MONTH_FOLDER_PREFIX,
    MonthPlan,
    is_monthly,
    month_folder,
    plan_publication,
)

# The public interface of docs/marts.md, in its order, with each table's key (its grain, and
# the sort order of the published rows, so equal inputs give equal files).
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_customer_profit_monthly": ("month", "customer_no"),
    "fct_cost_to_serve_monthly": ("month", "customer_no", "activity"),
    "customer_segments": ("month", "customer_no"),
    "segment_kpis": ("month", "segmentation", "segment"),
    "segment_transitions": ("month", "segmentation", "from_segment", "to_segment"),
    "kpi_target_status": ("month", "segmentation", "segment", "kpi"),
    "margin_reconciliation": ("month", "line_item"),
    "account_playbook": ("customer_no",),
    "clv_model_fits": ("month", "model"),
}
AUDIT_KEYS: dict[str, tuple[str, ...]] = {
    "load_batches": ("system", "entity", "batch", "file"),
    "quarantined_rows": ("system", "entity", "batch", "file", "line", "column"),
}
# DuckDB 2.0 writes a storage format older readers cannot open; BI tools often bundle an older one.
PUBLISHED_DUCKDB = "marts.duckdb"
PUBLISHED_STORAGE_VERSION = "v1.0.0"
PARQUET_FILE = "data.parquet"
MANIFEST = "_publication.json"
MANIFEST_FORMAT = 2  # 2: monthly tables one folder a month, what each publication rewrote
VERSIONS_DIR = ".published"
LINK_NAME = "published"
TMP_SUFFIX = ".tmp"
LOCK_FILE = ".lock"
VERSIONS_KEPT = 2  # the current copy and the one before it are always kept
GRACE_SECONDS = 15 * 60  # an older copy is kept this long after it was superseded (slow readers)


class PublishError(RuntimeError):
    """The warehouse cannot be published as it is; the message says why. The last good copy stays."""


class WarehouseBusy(PublishError, Transient):
    """The warehouse cannot be opened read-only (another process writes it); worth retrying."""



# --------------------------------------------------------------------------------------------------
# Writing a publication.


@dataclass
class Publication:
    version: Path
    run_id: str
    rows: dict[str, int]
    manifest: dict[str, Any]
    pruned: list[str] = field(default_factory=list)

    @property
    def outside_plan(self) -> dict[str, list[str]]:
        """Per table, the months rewritten although no build plan named them."""
        return {n: t["months_outside_plan"] for n, t in self.manifest["tables"].items()
                if t.get("months_outside_plan")}

    @property
    def undescribed(self) -> list[str]:
        """`table` or `table.column` of everything published without a description."""
        return [
            name if not column else f"{name}.{column}"
            for name, t in self.manifest["tables"].items()
            for column in [None, *(c["name"] for c in t["columns"])]
            if not (t.get("description") if column is None else _column(t, column).get("description"))
        ]


def _column(table: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in table["columns"] if c["name"] == name)


def published_name(schema: str, table: str) -> str:
    """The name of a table in the published copy: marts keep theirs, audit tables get `audit_`."""
    return table if schema == "marts" else f"{schema}_{table}"


def published_tables(
    con: duckdb.DuckDBPyConnection, catalog: str | None = None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(schema, table, key) of every table to publish that exists in the warehouse (`catalog`)."""
    existing = {
        (s, t)
        for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            # Views: on the Spark target the marts are views over its Parquet tables (engines.py).
            "WHERE table_type IN ('BASE TABLE', 'VIEW') AND table_catalog = coalesce(?, current_database())",
            [catalog],
        ).fetchall()
    }
    wanted = [("marts", t, k) for t, k in MART_KEYS.items()] + [
        ("audit", t, k) for t, k in AUDIT_KEYS.items()
    ]
    return [(s, t, k) for s, t, k in wanted if (s, t) in existing]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "type": data_type, "nullable": nullable == "YES"}
        for name, data_type, nullable in con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]


@contextlib.contextmanager
def publisher_lock(versions: Path, timeout_seconds: float | None = None) -> Iterator[None]:
    """One publisher at a time per output folder; released by the OS if the process dies."""
    versions.mkdir(parents=True, exist_ok=True)
    fd = os.open(versions / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise PublishError(
                        f"another process is publishing into {versions.parent} (lock {versions / LOCK_FILE})"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def publish(warehouse: Path, out: Path, run_id: str, dbt_target: str = "duckdb") -> dict[str, int]:
    """Export the tables into a new version folder and swap it in. Returns rows per table."""
    return publish_version(warehouse, out, run_id, dbt_target=dbt_target).rows


def publish_version(
    warehouse: Path,
    out: Path,
    run_id: str,
    *,
    require: Iterable[str] = (),
    keep: int = VERSIONS_KEPT,
    grace_seconds: float = GRACE_SECONDS,
    dbt_target: str = "duckdb",
    descriptions: dict[tuple[str, str], TableDescription] | None = None,
) -> Publication:
    """Publish the warehouse's marts and audit tables as a new current version.

    `require`: marts that must exist in the warehouse (the ones the dbt project defines); if one is
    missing nothing is published. Raises `PublishError`; the previous copy is then untouched.
    `dbt_target`: the engine that built the marts (assets/core/engines.py): `duckdb` reads them
    from the warehouse, `spark` from `<out>/spark_warehouse/marts.db/` (the audit tables always
    come from the warehouse).
    `descriptions`: the tables' and columns' descriptions, (schema, table) → text; by default the
    dbt manifest's (assets/descriptions.py). They become comments in `marts.duckdb` and are kept
    in `_publication.json` for PostgreSQL.
    """
    warehouse, out = Path(warehouse), Path(out)
    if not warehouse.is_file():
        raise PublishError(f"the warehouse {warehouse} does not exist: nothing to publish")
    versions = out / VERSIONS_DIR
    link = out / LINK_NAME
    if link.exists() and not link.is_symlink():
        raise PublishError(f"{link} exists and is not the published-copy link; move it away and rerun")
    with publisher_lock(versions):
        _remove_leftovers(out)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        final = versions / f"{stamp}-{_safe(run_id)[:8]}"
        tmp = final.with_name(final.name + TMP_SUFFIX)
        tmp.mkdir()
        try:
            if descriptions is None:
                descriptions = load_table_descriptions()
            manifest = _write_version(warehouse, tmp, run_id, set(require), dbt_target, out, descriptions,
                                      current=_current_version(link))
            seal(tmp)
            os.rename(tmp, final)
            _fsync_dir(versions)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        swap_link(link, final)
        pruned = _prune(versions, current=final, keep=keep, grace_seconds=grace_seconds)
    rows = {name: t["rows"] for name, t in manifest["tables"].items()}
    return Publication(version=final, run_id=run_id, rows=rows, manifest=manifest, pruned=pruned)


def _safe(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "-_") or "run"


def _current_version(link: Path) -> tuple[Path, dict[str, Any]] | None:
    """The current publication's folder and manifest, or None (nothing published yet, or unreadable)."""
    if not link.is_symlink():
        return None
    version = Path(os.path.realpath(link))
    try:
        return version, json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_version(warehouse: Path, version: Path, run_id: str, require: set[str],
                   dbt_target: str = "duckdb", out: Path | None = None,
                   descriptions: dict[tuple[str, str], TableDescription] | None = None,
                   current: tuple[Path, dict[str, Any]] | None = None) -> dict[str, Any]:
    db_file = version / PUBLISHED_DUCKDB
    tables: dict[str, Any] = {}
    with duckdb.connect() as con:  # in memory: the warehouse attached read-only, the new file read-write
        try:
            attach_layers(con, warehouse, out or warehouse.parent, dbt_target, alias="warehouse")
        except duckdb.IOException as exc:
            raise WarehouseBusy(
                f"cannot open the warehouse {warehouse} read-only (is a writer running?): {exc}"
            ) from exc
        todo = published_tables(con, "warehouse")
        missing = sorted(require - {t for s, t, _ in todo if s == "marts"})
        if missing:
            raise PublishError(
                f"the warehouse {warehouse} lacks the marts {', '.join(missing)}"
                + (f" (dbt target {dbt_target}: none in {out or warehouse.parent}/spark_warehouse)"
                   if dbt_target != "duckdb" else "") + ": nothing published"
            )
        # Read before the snapshot below, yet the same state: while this process has the warehouse
        # attached read-only, no process can open it for writing.
        plan = plan_publication(con, "warehouse", *(current or (None, None)))
        if plan.incremental and (plan.base / PUBLISHED_DUCKDB).is_file():
            # The DuckDB file starts as a copy of the base's; its changed months are replaced below.
            shutil.copyfile(plan.base / PUBLISHED_DUCKDB, db_file)
            os.chmod(db_file, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        con.execute(
            f"ATTACH {sql_literal(db_file)} AS published "
            f"(STORAGE_VERSION {sql_literal(PUBLISHED_STORAGE_VERSION)})"
        )
        con.execute("BEGIN TRANSACTION")  # one snapshot of the warehouse for every table
        kept = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'published'").fetchall()}
        for schema, table, key in todo:
            name = published_name(schema, table)
            columns = _columns(con, "warehouse", schema, table)
            source = f"warehouse.{sql_ident(schema)}.{sql_ident(table)}"
            order = ", ".join(sql_ident(c) for c in key if any(col["name"] == c for col in columns))
            (version / name).mkdir()
            monthly = is_monthly(key) and any(c["name"] == MONTH_COLUMN for c in columns)
            months = plan.months(name, columns) if monthly else None
            if monthly:
                written = _write_months(con, source, order, version / name, months, plan, name)
            else:
                written = _write_whole(con, source, order, version / name)
            in_duckdb = _fill_duckdb(con, name, columns, source, order, written, name in kept)
            described = (descriptions or {}).get((schema, table))
            _describe(con, name, columns, described)
            expected = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            in_parquet = con.execute(
                f"SELECT count(*) FROM read_parquet({sql_literal(version / written.path)})").fetchone()[0]
            if not expected == in_parquet == in_duckdb:
                raise PublishError(
                    f"{name}: {expected} rows in the warehouse but {in_parquet} in Parquet "
                    f"and {in_duckdb} in "
                    f"{PUBLISHED_DUCKDB}"
                )
            tables[name] = {
                "schema": schema,
                "table": table,
                "key": list(key),
                "rows": expected,
                "path": written.path,
                "months": written.month_rows,
                "rewritten_months": written.rewritten,
                "months_outside_plan": written.outside_plan,
                "description": described.description if described else "",
                "columns": columns,
            }
        for name in sorted(kept - set(tables)):  # a table the base held that is no longer published
            con.execute(f"DROP TABLE published.main.{sql_ident(name)}")
        con.execute("COMMIT")
        con.execute("CHECKPOINT published")
        con.execute("DETACH published")
        con.execute("DETACH warehouse")
    if db_file.with_name(db_file.name + ".wal").exists():
        raise PublishError(f"{db_file} still has a write-ahead log after closing; not publishing it")
    manifest = {
        "format": MANIFEST_FORMAT,
        "run_id": run_id,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "version": version.name.removesuffix(TMP_SUFFIX),
        "based_on": plan.base.name if plan.incremental else None,
        "build_plan": plan.build_plan_run,
        "plan": plan.reason,
        "duckdb_file": PUBLISHED_DUCKDB,
        "duckdb_storage_version": PUBLISHED_STORAGE_VERSION,
        "tables": tables,
    }
    (version / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class _Written:
    """One table's Parquet in a new version: the path readers glob, and what changed since the base."""

    path: str  # relative to the version folder
    month_rows: dict[str, int] | None  # rows per month (ISO date) of a monthly table; None otherwise
    rewritten: list[str] | None  # months written anew (or gone) since the base; None: the whole table
    outside_plan: list[str] = field(default_factory=list)  # rewritten although no build plan named them

    def rewritten_dates(self) -> list[dt.date] | None:
        return None if self.rewritten is None else [dt.date.fromisoformat(m) for m in self.rewritten]


def _write_whole(con: duckdb.DuckDBPyConnection, source: str, order: str, folder: Path) -> _Written:
    select = f"SELECT * FROM {source}" + (f" ORDER BY {order}" if order else "")
    con.execute(f"COPY ({select}) TO {sql_literal(folder / PARQUET_FILE)} (FORMAT parquet, COMPRESSION zstd)")
    return _Written(path=f"{folder.name}/{PARQUET_FILE}", month_rows=None, rewritten=None)


def _write_months(con: duckdb.DuckDBPyConnection, source: str, order: str, folder: Path,
                  months: frozenset[dt.date] | None, plan: MonthPlan, name: str) -> _Written:
    """A monthly table, one folder a month: the plan's months written, every other linked from the base.

    A month the plan does not name but whose row count differs from the base's was changed outside
    the plan: it is written too (the copy stays right), and the caller's log names it.
    """
    counts = dict(con.execute(
        f"SELECT {sql_ident(MONTH_COLUMN)}, count(*) FROM {source} GROUP BY ALL").fetchall())
    base_rows = plan.base_months(name)
    if months is None:
        write = set(counts)
    else:
        write = (set(months) & set(counts)) | {m for m, n in counts.items() if base_rows.get(m) != n}
    for month in sorted(counts):
        target = folder / month_folder(month) / PARQUET_FILE
        target.parent.mkdir()
        if month in write:
            select = (f"SELECT * FROM {source} WHERE {sql_ident(MONTH_COLUMN)} = "
                      f"{sql_literal(month.isoformat())}::DATE" + (f" ORDER BY {order}" if order else ""))
            con.execute(f"COPY ({select}) TO {sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)")
        else:  # unchanged since the base: the same file, not a copy
            os.link(plan.base / name / month_folder(month) / PARQUET_FILE, target)
    if not counts:  # an empty table: one empty file with its columns, so readers still find it
        _write_whole(con, source, order, folder)
        path = f"{folder.name}/{PARQUET_FILE}"
    else:
        path = f"{folder.name}/{MONTH_FOLDER_PREFIX}*/{PARQUET_FILE}"
    gone = set(base_rows) - set(counts)
    rewritten = None if months is None else sorted(m.isoformat() for m in write | gone)
    outside = [] if months is None else sorted(m.isoformat() for m in write | gone if m not in months)
    return _Written(path=path, month_rows={m.isoformat(): n for m, n in sorted(counts.items())},
                    rewritten=rewritten, outside_plan=outside)


def _fill_duckdb(con: duckdb.DuckDBPyConnection, name: str, columns: list[dict[str, Any]], source: str,
                 order: str, written: _Written, exists: bool) -> int:
    """The table in the new `marts.duckdb`: its rewritten months replaced when the file is the base's
    copy and the table kept its columns, else created anew. Returns its rows."""
    table = f"published.main.{sql_ident(name)}"
    months = written.rewritten_dates()
    sort = f" ORDER BY {order}" if order else ""
    if exists and months is not None:
        if months:
            listed = ", ".join(f"{sql_literal(m.isoformat())}::DATE" for m in months)
            where = f" WHERE {sql_ident(MONTH_COLUMN)} IN ({listed})"
            con.execute(f"DELETE FROM {table}{where}")
            con.execute(f"INSERT INTO {table} SELECT * FROM {source}{where}{sort}")
    else:
        ddl = ", ".join(
            f"{sql_ident(c['name'])} {c['type']}{'' if c['nullable'] else ' NOT NULL'}" for c in columns
        )
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} ({ddl})")
        con.execute(f"INSERT INTO {table} SELECT * FROM {source}{sort}")
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _describe(con: duckdb.DuckDBPyConnection, name: str, columns: list[dict[str, Any]],
              described: TableDescription | None) -> None:
    """Comments on the published table and its columns; each column dict gets its `description`."""
    table = f"published.main.{sql_ident(name)}"
    for column in columns:
        column["description"] = described.columns.get(column["name"], "") if described else ""
        if column["description"]:
            text = sql_literal(column["description"])
            con.execute(f"COMMENT ON COLUMN {table}.{sql_ident(column['name'])} IS {text}")
    if described and described.description:
        con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(described.description)}")


def seal(version: Path) -> None:
    """Make the files read-only and flush everything to disk before the folder can become current
    (the published copy's versions and the scenarios' alike)."""
    read_only = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
    for root, dirs, files in os.walk(version):
        for name in files:
            path = os.path.join(root, name)
            if os.stat(path).st_nlink > 1:  # linked from a sealed version: read-only and on disk
                continue
            os.chmod(path, read_only)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for name in dirs:
            _fsync_dir(Path(root, name))
    _fsync_dir(version)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_link(link: Path, target: Path, what: str = "the published-copy link",
              error: type[Exception] | None = None) -> None:
    """Point `link` at `target` atomically: readers see the old folder or the new one, never a mix."""
    if link.exists() and not link.is_symlink():
        raise (error or PublishError)(f"{link} exists and is not {what}; move it away and rerun")
    tmp = link.with_name(f".{link.name}.{os.getpid()}{TMP_SUFFIX}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.relative_to(link.parent), target_is_directory=True)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def _remove_leftovers(out: Path) -> None:
    """Under the publisher lock: what a failed or killed publisher left (never a current copy)."""
    versions = out / VERSIONS_DIR
    for path in versions.iterdir():
        if path.is_dir() and path.name.endswith(TMP_SUFFIX):
            shutil.rmtree(path, ignore_errors=True)
    for path in out.glob(f".{LINK_NAME}.*{TMP_SUFFIX}"):
        if path.is_symlink():
            path.unlink()


def list_versions(versions: Path) -> list[Path]:
    """The complete version folders, oldest first."""
    if not versions.is_dir():
        return []
    return sorted(
        p
        for p in versions.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not p.name.endswith(TMP_SUFFIX)
    )


def _prune(versions: Path, current: Path, keep: int, grace_seconds: float) -> list[str]:
    """Remove versions older than the newest `keep` once they were superseded `grace_seconds` ago."""
    complete = list_versions(versions)
    now = time.time()
    pruned = []
    for older, newer in zip(complete[:-keep] if keep else complete, complete[1:], strict=False):
        if older == current:
            continue
        manifest = newer / MANIFEST
        superseded_at = manifest.stat().st_mtime if manifest.exists() else newer.stat().st_mtime
        if now - superseded_at >= grace_seconds:
            shutil.rmtree(older, ignore_errors=True)
            pruned.append(older.name)
    return pruned

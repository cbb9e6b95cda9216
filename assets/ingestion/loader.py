"""Loading one batch: check it, apply the row rules, then replace it in ONE transaction.

Everything that can refuse the batch happens before the transaction, on temp tables: the folder's
files, the manifest, each file's encoding, separator, header and structure, the row counts and
checksums, the control totals. Then one transaction deletes the batch's raw rows, quarantine rows and
audit rows and inserts the new ones, so the warehouse always holds exactly one version of a batch:
the newest one that was not refused. A refused batch changes nothing but its audit refusal row.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.core.contract import create_raw_tables, entities, entity
from assets.core.sql import sql_ident

from . import audit, manifest, reader, rules
from .errors import Refused
from .landing_scan import BatchRef, batch_files, check_names, inside, rel

_counter = itertools.count()


@dataclass
class BatchResult:
    system: str
    entity: str
    batch: str
    status: str  # LOADED | REFUSED | UNCHANGED (the loaded version again: nothing to load)
    files: list[str]
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    fingerprint: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    file_rows: dict[str, int] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.status == "REFUSED"

    @property
    def loaded(self) -> bool:
        return self.status == "LOADED"

    def as_metadata(self) -> dict:
        return {
            "batch": self.batch, "status": self.status, "files": self.files,
            "rows_read": self.rows_read, "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined, "extra_columns": self.extra_columns,
            "message": self.message,
        }


def prepare_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit schemas and tables that are missing (idempotent, one query when
    everything exists); keep insertion order so rows land in file order."""
    have = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE NOT temporary AND database_name = current_database()").fetchall()}
    wanted = {f"raw.{e.table}" for e in entities().values()}
    wanted |= {"audit.load_batches", "audit.quarantined_rows"}
    if not wanted <= have:
        create_raw_tables(con)
        audit.create_audit_tables(con)
    con.execute("SET preserve_insertion_order = true")


def load_batch(con: duckdb.DuckDBPyConnection, landing_root: Path | str, system: str, entity_name: str,
               batch: str, prepared: bool = False) -> BatchResult:
    """Load `<landing_root>/<system>/<entity>/<batch>/` into the raw layer, replacing its earlier version.

    Never raises for bad input: a refused batch is recorded in audit.load_batches and returned with
    status REFUSED (its message names the file, the reason and what to do). `prepared`: the caller
    ran `prepare_warehouse` on this connection (an ingestion step does, once for all its batches).
    """
    root = Path(landing_root).resolve()
    ref = BatchRef(system, entity_name, batch)
    loaded_at = audit.now_utc()
    if not prepared:
        prepare_warehouse(con)
    prefix = f"_ingest_{next(_counter)}"
    temps: list[str] = []
    files = [ref.rel]
    fingerprint = None
    try:
        check_names(system, entity_name, batch)
        ent = entity(system, entity_name)
        bf = batch_files(root, ref)
        files = [rel(root, p) for p in bf.data]
        byte_stats = {p: reader.scan_bytes(p, text=p.suffix.lower() == ".csv") for p in bf.data}
        fingerprint = audit.batch_fingerprint(bf.dir, {p.name: fb.sha256 for p, fb in byte_stats.items()})
        man = None
        if bf.manifest:
            man = manifest.read_manifest(bf.manifest, rel(root, bf.manifest), ref, ent)
            manifest.check_file_list(man, bf.data)
            for p, fb in byte_stats.items():
                manifest.check_checksum(man, p.name, rel(root, p), fb.sha256)
        stage = rules.Stage(f"{prefix}_stage", ent, batch)
        temps += [stage.table, f"{stage.table}_lines", f"{prefix}_dups"]
        for i, p in enumerate(bf.data):
            table = f"{prefix}_f{i}"
            temps += [table, f"{table}_lines"]
            src = reader.open_source(con, ent, p, rel(root, p), table, byte_stats[p])
            rules.append_part(con, stage, src)  # parse, type and rule the file in one statement
            if src.fmt == "csv" and not reader.one_line_per_row(src, byte_stats[p]):
                reader.csv_lines(con, src, table, f"{table}_lines", byte_stats[p])
                rules.add_lines(con, stage, i, f"{table}_lines")
            if man:
                manifest.check_rows(man, p.name, src)
        rules.finish_stage(con, stage, prefix)
        if man:
            manifest.check_control_totals(con, man, stage, ent)
        for p in bf.data:  # what was staged is what was hashed
            reader.check_unchanged(p, rel(root, p), byte_stats[p])
    except Refused as r:
        if fingerprint is None:
            fingerprint = _fingerprint_if_possible(root, ref)
        message = (f"REFUSED {ref.rel}: {r.message} Nothing of this delivery was loaded; the "
                   "previously loaded version of the batch (if any) stays.")
        audit.record_refused(con, ref, ", ".join(files), message, loaded_at, fingerprint)
        _drop(con, temps)
        return BatchResult(system, entity_name, batch, "REFUSED", files, message=message,
                           fingerprint=fingerprint)
    except BaseException:
        _drop(con, temps)
        raise

    extras = sorted({name for s in stage.parts for name in s.extras})
    good = stage.rows - stage.bad_rows
    message = f"loaded {good} of {stage.rows} rows from {len(files)} file(s)"
    if stage.bad_rows:
        message += f"; {stage.bad_rows} row(s) quarantined (see audit.quarantined_rows)"
    message += "; manifest verified" if man else "; no manifest"
    if extras:
        message += f"; extra columns kept in _extra: {', '.join(extras)}"
    try:
        _replace(con, ent, ref, stage, ", ".join(files), message, loaded_at, fingerprint)
    finally:
        _drop(con, temps)
    return BatchResult(
        system, entity_name, batch, "LOADED", files, rows_read=stage.rows, rows_loaded=good,
        rows_quarantined=stage.bad_rows, message=message, fingerprint=fingerprint,
        extra_columns=extras, file_rows={s.rel: s.rows for s in stage.parts},
    )


def _replace(con, ent, ref: BatchRef, stage: rules.Stage, files: str, message: str, loaded_at,
             fingerprint: str) -> None:
    cols = ", ".join(sql_ident(c.name) for c in ent.columns)
    values = ", ".join(rules.typed(c) for c in ent.columns)
    where = "system = ? AND entity = ? AND batch = ?"
    args = [ref.system, ref.entity, ref.batch]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM raw.{ent.table} WHERE _batch = ?", [ref.batch])
        con.execute(f"DELETE FROM audit.quarantined_rows WHERE {where}", args)
        con.execute(
            f"INSERT INTO raw.{ent.table} ({cols}, _batch, _file, _line, _extra, _loaded_at) "
            f"SELECT {values}, ?, _file, _line, _extra, ? FROM {stage.rows_sql()} WHERE {stage.good}",
            [ref.batch, loaded_at],
        )
        if stage.bad_rows:
            con.execute(
                "INSERT INTO audit.quarantined_rows SELECT ?, ?, ?, _file, _line, \"column\", value, "
                f"reason FROM ({rules.quarantine_select(ent, stage)}) ORDER BY _file, _line, \"column\"",
                args,
            )
        audit.replace_loaded(con, ref, files, stage.rows, stage.rows - stage.bad_rows, stage.bad_rows,
                             message, loaded_at, fingerprint)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# A batch with more data than this loads alone: it keeps DuckDB's threads busy by itself, and two
# large batches at once hold two stages in memory (docs/performance.md, "Batches at once").
AT_ONCE_MAX_BYTES = 32 * 2**20


def load_batches(con: duckdb.DuckDBPyConnection, landing_root: Path | str, refs: Sequence[BatchRef],
                 loaded: dict[BatchRef, str], at_once: int) -> list[BatchResult]:
    """Load each batch of `refs` (or skip it as unchanged: `skip_unchanged`) on a prepared
    warehouse; returns the results in the order of `refs`.

    Batches of up to AT_ONCE_MAX_BYTES load up to `at_once` at a time, each on its own cursor of
    `con`: a small batch's cost is mostly DuckDB parsing and planning its statements, on one core.
    Batches are independent (each replaces only its own rows and audit rows, in its own
    transaction), so the warehouse ends as if they had loaded one after the other
    (tests/ingestion/test_load_batches.py). A failure other than a refusal (the disk, an interrupt)
    stops the batches not started and interrupts the others; each rolls back its own transaction.
    """
    root = Path(landing_root).resolve()
    alone = [ref for ref in refs if _data_bytes(root / ref.rel) > AT_ONCE_MAX_BYTES]
    results = {ref: _load_or_skip(con, root, ref, loaded) for ref in alone}
    results |= _load_at_once(con, root, [ref for ref in refs if ref not in results], loaded, at_once)
    return [results[ref] for ref in refs]


def _load_or_skip(con, root: Path, ref: BatchRef, loaded: dict[BatchRef, str]) -> BatchResult:
    return (skip_unchanged(con, root, ref, loaded)
            or load_batch(con, root, ref.system, ref.entity, ref.batch, prepared=True))


def _load_at_once(con, root: Path, refs: list[BatchRef], loaded: dict[BatchRef, str],
                  at_once: int) -> dict[BatchRef, BatchResult]:
    if not refs:
        return {}
    cursors = [con.cursor() for _ in range(max(1, min(at_once, len(refs))))]
    free: queue.SimpleQueue = queue.SimpleQueue()
    for cursor in cursors:
        free.put(cursor)

    def one(ref: BatchRef) -> BatchResult:
        cursor = free.get()
        try:
            return _load_or_skip(cursor, root, ref, loaded)
        finally:
            free.put(cursor)

    try:
        with ThreadPoolExecutor(len(cursors), thread_name_prefix="load_batch") as pool:
            futures = {ref: pool.submit(one, ref) for ref in refs}
            try:
                return {ref: f.result() for ref, f in futures.items()}
            except BaseException:
                for f in futures.values():
                    f.cancel()
                for cursor in cursors:
                    cursor.interrupt()
                raise
    finally:
        for cursor in cursors:
            cursor.close()


def _data_bytes(folder: Path) -> int:
    """The bytes of a batch's files, those its fingerprint covers (0 if the folder cannot be read:
    load_batch says why)."""
    try:
        return sum(p.stat().st_size for p in audit.fingerprint_files(folder))
    except OSError:
        return 0


def skip_unchanged(con: duckdb.DuckDBPyConnection, landing_root: Path | str, ref: BatchRef,
                   loaded: dict[BatchRef, str]) -> BatchResult | None:
    """An UNCHANGED result when the landing folder holds exactly the batch version already loaded
    (same fingerprint): a rerun over an unchanged landing folder loads nothing."""
    if ref not in loaded:
        return None
    fingerprint = _fingerprint_if_possible(Path(landing_root).resolve(), ref)
    if fingerprint != loaded[ref]:
        return None
    audit.clear_refusal(con, ref)
    return BatchResult(ref.system, ref.entity, ref.batch, "UNCHANGED", [ref.rel],
                       message=f"{ref.rel} unchanged since its last load: nothing to load",
                       fingerprint=fingerprint)


def _fingerprint_if_possible(root: Path, ref: BatchRef) -> str | None:
    """The fingerprint of a refused batch, when its files can be read without leaving the root."""
    bdir = root / ref.system / ref.entity / ref.batch
    try:
        check_names(ref.system, ref.entity, ref.batch)
        if bdir.is_dir() and all(inside(root, p) for p in [bdir, *audit.fingerprint_files(bdir)]):
            return audit.batch_fingerprint(bdir)
    except (Refused, OSError):
        pass
    return None


def _drop(con, tables: list[str]) -> None:
    for t in reversed(tables):
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {t}")

"""The audit schema: one row per batch load (or refusal), one per quarantined value.

`audit.load_batches` holds, per (system, entity, batch), at most one LOADED row (the version in the
raw layer, with its counts) and at most one REFUSED row (the newest refused delivery since then): a
successful load replaces both, a refusal replaces only the earlier refusal, so the previous good
version and its audit row stay. `file` is the batch's files, comma-separated in part order. A
refused batch counts 0 rows read, loaded and quarantined (none of its rows entered the warehouse;
the message says what was delivered), so `rows_read = rows_loaded + rows_quarantined` holds on
every row.

Folder refusals (unknown system or entity folders, batch folders that are not months, stray files,
symlinks out of the landing root) belong to no batch: they are recorded with the folder names as
found (NULL below the level reached) and `file` the offending path, and every scan replaces them
all, so the table shows what is wrong in the landing folder now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb

from assets.core.catalog import table_exists
from assets.core.contract import entities, sha256_file
from assets.core.sql import sql_literal

from .landing_scan import MANIFEST, MONTH_RE, BatchRef, FolderRefusal, is_metadata

DDL = (
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.load_batches (
        system VARCHAR, entity VARCHAR, batch VARCHAR, file VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        status VARCHAR, message VARCHAR, loaded_at TIMESTAMP, fingerprint VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.quarantined_rows (
        system VARCHAR, entity VARCHAR, batch VARCHAR, file VARCHAR, line BIGINT,
        "column" VARCHAR, value VARCHAR, reason VARCHAR)""",
    # The landing files' sha256 by their stat, so that a rerun reads no unchanged file (FileHashes).
    """CREATE TABLE IF NOT EXISTS audit.landing_file_hashes (
        path VARCHAR, size BIGINT, mtime_ns BIGINT, ctime_ns BIGINT, inode BIGINT, sha256 VARCHAR)""",
)


def create_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    for sql in DDL:
        con.execute(sql)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def fingerprint_files(batch_dir: Path) -> list[Path]:
    """The files a batch's fingerprint covers: its part files and its manifest."""
    return sorted(p for p in Path(batch_dir).iterdir()
                  if p.is_file() and (p.name == MANIFEST or not is_metadata(p.name)))


def batch_fingerprint(batch_dir: Path | str, known: dict[str, str] | None = None) -> str:
    """sha256 over the batch's files' bytes (each file's sha256 with its name, in name order).

    A sensor compares it with `audit.load_batches.fingerprint` to tell a re-delivery. `known`
    passes sha256 values already computed (file name -> hex digest).
    """
    known = known or {}
    h = hashlib.sha256()
    for p in fingerprint_files(Path(batch_dir)):
        h.update(f"{p.name}\t{known.get(p.name) or sha256_file(p)}\n".encode())
    return h.hexdigest()


class FileHashes:
    """The sha256 of landing files, remembered in the warehouse by each file's stat: a plain rerun
    over an unchanged landing folder (orchestration/runner.py: changed_months) reads no file's bytes,
    where it read them all (15 GB at L).

    A file whose size, modification time, change time and inode are those recorded with its sha256
    has not been written since: every write sets the change time (st_ctime_ns), which no tool sets
    back. The stat is taken before the bytes are read, so a file written meanwhile is read again the
    next time. `save` keeps the files asked for since `__init__` (the folder as scanned now); on a
    read-only connection it keeps nothing.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._read_only = con.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
        if not self._read_only:
            create_audit_tables(con)
        self._recorded = {path: (tuple(key), sha) for path, *key, sha in con.execute(
            "SELECT path, size, mtime_ns, ctime_ns, inode, sha256 FROM audit.landing_file_hashes").fetchall()
        } if table_exists(con, "audit", "landing_file_hashes") else {}
        self._seen: dict[str, tuple[tuple[int, ...], str]] = {}

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        name = str(path.absolute())
        recorded = self._recorded.get(name)
        sha = recorded[1] if recorded is not None and recorded[0] == key else sha256_file(path)
        self._seen[name] = (key, sha)
        return sha

    def of_batch(self, batch_dir: Path) -> dict[str, str]:
        """file name -> sha256 of the files a batch's fingerprint covers (`batch_fingerprint`'s `known`)."""
        return {p.name: self.sha256(p) for p in fingerprint_files(batch_dir)}

    def save(self) -> None:
        if self._read_only or self._seen == self._recorded:  # nothing new to remember
            return
        rows = [(path, *key, sha) for path, (key, sha) in sorted(self._seen.items())]
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.execute("DELETE FROM audit.landing_file_hashes")
            if rows:
                self._con.executemany("INSERT INTO audit.landing_file_hashes VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise


def _where(ref: BatchRef) -> tuple[str, list]:
    return "system = ? AND entity = ? AND batch = ?", [ref.system, ref.entity, ref.batch]


def replace_loaded(con, ref: BatchRef, files: str, rows_read: int, rows_loaded: int,
                   rows_quarantined: int, message: str, loaded_at: dt.datetime, fingerprint: str) -> None:
    """Inside the caller's transaction: drop the batch's audit rows, insert the LOADED one."""
    where, args = _where(ref)
    con.execute(f"DELETE FROM audit.load_batches WHERE {where}", args)
    con.execute("INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, 'LOADED', ?, ?, ?)",
                [*args, files, rows_read, rows_loaded, rows_quarantined, message, loaded_at, fingerprint])


def record_refused(con, ref: BatchRef, files: str, message: str, loaded_at: dt.datetime,
                   fingerprint: str | None) -> None:
    """Replace the batch's earlier refusal (if any) with this one; the LOADED row stays."""
    where, args = _where(ref)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM audit.load_batches WHERE {where} AND status = 'REFUSED'", args)
        con.execute("INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, 0, 0, 0, 'REFUSED', ?, ?, ?)",
                    [*args, files, message, loaded_at, fingerprint])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def loaded_fingerprints(con) -> dict[BatchRef, str]:
    """The fingerprint of every batch version in the raw layer."""
    rows = con.execute("SELECT system, entity, batch, fingerprint FROM audit.load_batches "
                       "WHERE status = 'LOADED' AND fingerprint IS NOT NULL").fetchall()
    return {BatchRef(s, e, b): f for s, e, b, f in rows}


def clear_refusal(con, ref: BatchRef) -> None:
    """The landing folder holds the loaded version again: an earlier refusal of it is stale."""
    where, args = _where(ref)
    con.execute(f"DELETE FROM audit.load_batches WHERE {where} AND status = 'REFUSED'", args)


def _valid_batch_sql() -> str:
    pairs = ", ".join(sql_literal(f"{s}/{e}") for s, e in entities())
    return (f"(batch IS NOT NULL AND regexp_full_match(batch, {sql_literal(MONTH_RE.pattern)}) "
            f"AND system || '/' || entity IN ({pairs}))")


def replace_folder_refusals(con, refusals: list[FolderRefusal], at: dt.datetime | None = None) -> None:
    """Make the folder-refusal rows of audit.load_batches exactly `refusals` (one transaction)."""
    at = at or now_utc()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM audit.load_batches WHERE NOT coalesce({_valid_batch_sql()}, false)")
        for r in refusals:
            con.execute("INSERT INTO audit.load_batches VALUES (?, ?, ?, ?, 0, 0, 0, 'REFUSED', ?, ?, NULL)",
                        [r.system, r.entity, r.batch, r.path, r.message, at])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise

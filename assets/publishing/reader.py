"""Reading the published copy: resolve `<out>/published` once and read every table from that version."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from assets.core.sql import sql_ident, sql_literal
from assets.publishing.copy import LINK_NAME, MANIFEST, PublishError


@dataclass(frozen=True)
class PublishedCopy:
    """One publication, resolved once: every read through it sees the same version."""

    version: Path
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def tables(self) -> dict[str, Any]:
        return self.manifest["tables"]

    def parquet(self, table: str) -> Path:
        """The table's Parquet, as `read_parquet` takes it: a glob over the month folders of a
        monthly table (`<table>/month=*/data.parquet`), else its one file."""
        return self.version / self.tables[table]["path"]

    @property
    def duckdb_file(self) -> Path:
        return self.version / self.manifest["duckdb_file"]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per published table (over its Parquet)."""
        con = duckdb.connect()
        for name in self.tables:
            con.execute(
                f"CREATE VIEW {sql_ident(name)} AS "
                f"SELECT * FROM read_parquet({sql_literal(self.parquet(name))})"
            )
        return con


def open_published(out: Path) -> PublishedCopy:
    """The current published copy under `out` (resolves `<out>/published` once)."""
    link = Path(out) / LINK_NAME
    if not link.exists():
        raise PublishError(f"nothing is published under {out} yet ({link} does not exist)")
    version = Path(os.path.realpath(link))
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    return PublishedCopy(version=version, manifest=manifest)

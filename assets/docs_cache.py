"""The cache of the dbt docs site: one entry per (manifest, versions, target, vars, warehouse schema).

The site is a pure function of the prepared manifest and the warehouse's catalog (dbt-duckdb's
`duckdb__get_catalog`: names, types, positions and comments of tables, views and columns; no row
counts). A dbt process costs seconds, so `assets/dbt_docs.py` keeps each site it generates here,
beside the prepared manifest (`<dbt target>/docs_cache/<key>/`, shared by every output folder and
test worker), and a run with the same key installs the cached site and starts no dbt
(docs/publishing.md). Entries are written into a temporary folder and renamed into place whole,
checked against their sha256 before use, and pruned to the newest few (assets/core/folder_cache.py).
"""

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from assets.core import folder_cache
from assets.core.dbt import dbt_project
from assets.core.folder_cache import entries, entry_parts

STATIC_PAGE = "static_index.html"  # what `dbt docs generate --static` writes into its target folder
ARTIFACTS = ("manifest.json", "catalog.json")

CACHE_DIR = "docs_cache"
CACHE_KEEP = 8  # entries kept; each is one site (a few MB)
CACHE_FORMAT = "1"  # bump when what an entry holds changes

# What each part of the key means, for the log of a regenerated site.
PART_NAMES = {
    "format": "the cache format",
    "manifest": "the dbt manifest",
    "versions": "the dbt/DuckDB versions",
    "target": "the dbt target",
    "vars": "the dbt vars (configuration)",
    "schema": "the warehouse schema",
}

# Everything of the warehouse schema that the catalog reads (duckdb__get_catalog in dbt-duckdb's
# macros/catalog.sql) and a little more (every database, not only the profile's), in one query.
SCHEMA_QUERY = """
SELECT 'table' AS kind, database_name, schema_name, table_name AS name, NULL::VARCHAR AS column_name,
       NULL::BIGINT AS column_index, NULL::VARCHAR AS data_type, comment
FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT 'view', database_name, schema_name, view_name, NULL, NULL, NULL, comment
FROM duckdb_views() WHERE NOT internal
UNION ALL
SELECT 'column', database_name, schema_name, table_name, column_name, column_index, data_type, comment
FROM duckdb_columns() WHERE NOT internal
ORDER BY ALL
"""



def docs_cache_dir() -> Path:
    """Beside the prepared manifest: one cache for every output folder and every test worker."""
    return dbt_project().manifest_path.parent / CACHE_DIR


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def schema_digest(warehouse: Path) -> str:
    """sha256 of the warehouse's tables, views and columns (names, types, positions, comments),
    read in one query from the file opened read-only. Rows are not part of it: the catalog has none."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(SCHEMA_QUERY).fetchall()
    finally:
        con.close()
    return _sha256(json.dumps(rows, default=str).encode())


def package_versions(target: str) -> str:
    adapter = "dbt-spark" if target == "spark" else "dbt-duckdb"
    found = []
    for name in ("dbt-core", adapter, "duckdb"):
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}==?")
    return " ".join(found)


def key_parts(manifest: Path, target: str, vars_: list[str], warehouse: Path) -> dict[str, str]:
    """What the site is a function of. On Spark the catalog is empty (`--empty-catalog`): nothing of
    a warehouse enters the site, so none is read."""
    return {
        "format": CACHE_FORMAT,
        "manifest": _sha256(manifest.read_bytes()),
        "versions": package_versions(target),
        "target": target,
        "vars": _sha256(json.dumps(vars_).encode()),
        "schema": "empty catalog" if target == "spark" else schema_digest(warehouse),
    }


def cache_key(parts: dict[str, str]) -> str:
    return _sha256(json.dumps(parts, sort_keys=True).encode())


def entry_problem(entry: Path) -> str | None:
    """None when `entry` is a whole cached site, else what is wrong with it."""
    return folder_cache.entry_problem(entry, required=(STATIC_PAGE,))


def miss_reason(cache: Path, parts: dict[str, str]) -> str:
    """Why there is no entry for `parts`: what differs from the newest entry."""
    for entry in entries(cache):
        other = entry_parts(entry)
        if other is None:
            continue
        changed = [PART_NAMES.get(k, k) for k in parts if other.get(k) != parts[k]]
        return "changed since the newest cached site: " + ", ".join(changed)
    return "no cached site yet"


def store_site(built: Path, cache: Path, key: str, parts: dict[str, str]) -> None:
    """Store the site dbt wrote into `built` under `key` (written whole, then renamed into place)."""
    folder_cache.store(built, cache, key, parts, (STATIC_PAGE, *ARTIFACTS))


def prune(cache: Path, keep: int = CACHE_KEEP) -> None:
    folder_cache.prune(cache, keep)

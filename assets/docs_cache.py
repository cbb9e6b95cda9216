"""The cache of the dbt docs site: one entry per (manifest, versions, target, vars, warehouse schema).

The site is a pure function of the prepared manifest and the warehouse's catalog (dbt-duckdb's
`duckdb__get_catalog`: names, types, positions and comments of tables, views and columns; no row
counts). A dbt process costs seconds, so `assets/dbt_docs.py` keeps each site it generates here,
beside the prepared manifest (`<dbt target>/docs_cache/<key>/`, shared by every output folder and
test worker), and a run with the same key installs the cached site and starts no dbt
(docs/publishing.md). Entries are written into a temporary folder and renamed into place whole,
checked against their sha256 before use, and pruned to the newest few.
"""

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from assets.core.dbt import dbt_project

STATIC_PAGE = "static_index.html"  # what `dbt docs generate --static` writes into its target folder
ARTIFACTS = ("manifest.json", "catalog.json")

CACHE_DIR = "docs_cache"
CACHE_KEEP = 8  # entries kept; each is one site (a few MB)
CACHE_FORMAT = "1"  # bump when what an entry holds changes
ENTRY = "entry.json"  # the key's parts and the sha256 of every file; written last, before the rename
STALE_SECONDS = 3600  # a temporary folder this old belongs to a writer that died

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


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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
    """None when `entry` is a whole cache entry (every file its entry.json lists, with that sha256),
    else what is wrong with it."""
    try:
        files = json.loads((entry / ENTRY).read_text(encoding="utf-8"))["files"]
        if STATIC_PAGE not in files:
            return f"the cached entry has no {STATIC_PAGE}"
        for name, sha in files.items():
            if _file_sha256(entry / name) != sha:
                return f"the cached {name} differs from what was stored"
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"the cached entry is unreadable ({type(err).__name__}: {err})"
    return None


def remove_entry(path: Path) -> None:
    """Rename first, so no reader finds a half-deleted entry under its key; then delete."""
    trash = path.with_name(f".trash-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except OSError:
        return  # already gone (another worker pruned it)
    shutil.rmtree(trash, ignore_errors=True)


def _entries(cache: Path) -> list[Path]:
    """The whole entries (named by their key), newest first; temporary folders start with a dot."""
    found = []
    for p in cache.iterdir() if cache.is_dir() else []:
        if p.name.startswith("."):
            continue
        try:
            found.append((p.stat().st_mtime, p))
        except OSError:
            continue
    return [p for _, p in sorted(found, reverse=True)]


def miss_reason(cache: Path, parts: dict[str, str]) -> str:
    """Why there is no entry for `parts`: what differs from the newest entry."""
    for entry in _entries(cache):
        try:
            other = json.loads((entry / ENTRY).read_text(encoding="utf-8"))["parts"]
        except (OSError, ValueError, KeyError):
            continue
        changed = [PART_NAMES.get(k, k) for k in parts if other.get(k) != parts[k]]
        return "changed since the newest cached site: " + ", ".join(changed)
    return "no cached site yet"


def store_site(built: Path, cache: Path, key: str, parts: dict[str, str]) -> None:
    """Store the site dbt wrote into `built` under `key`: written into a temporary folder, renamed
    into place whole, so a reader never finds a half-written entry under a key."""
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".tmp-{key[:16]}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = {}
        for name in (STATIC_PAGE, *ARTIFACTS):
            if (built / name).is_file():
                shutil.copyfile(built / name, tmp / name)
                files[name] = _file_sha256(tmp / name)
        (tmp / ENTRY).write_text(json.dumps({"parts": parts, "files": files}, indent=1), encoding="utf-8")
        # Fails when another worker stored the same key first: its entry is as good as this one.
        with contextlib.suppress(OSError):
            os.rename(tmp, cache / key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prune(cache: Path, keep: int = CACHE_KEEP) -> None:
    """Keep the newest `keep` entries; delete the temporary folders of writers that died."""
    for old in _entries(cache)[keep:]:
        remove_entry(old)
    now = time.time()
    for p in cache.glob(".t*-*") if cache.is_dir() else []:
        try:
            stale = p.name.startswith(".trash-") or now - p.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)

"""The dbt docs site: every model, source, column description and the lineage, as one offline page.

`dbt docs generate --static` writes `static_index.html` with the manifest and the catalog (the
warehouse's column types) inlined, so the page opens from the file system without a web server
(dbt's plain `index.html` fetches `manifest.json` and cannot). The asset copies it to
`<out>/docs/index.html` (replaced atomically), next to the `manifest.json` and `catalog.json` it
was made from, for tools that read dbt's artifacts. The segment report links to it.

The site is a pure function of the prepared manifest and the warehouse's catalog (dbt-duckdb's
`duckdb__get_catalog`: names, types, positions and comments of tables, views and columns; no row
counts). A dbt process costs seconds, so the site is cached beside the prepared manifest
(`<dbt target>/docs_cache/<key>/`, shared by every output folder): the key hashes the manifest's
bytes, the dbt and DuckDB versions, the target, the dbt vars and a digest of the warehouse schema;
a run with the same key installs the cached site and starts no dbt (docs/publishing.md).
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

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets.core.dbt import dbt_project, failed_build, require_manifest, vars_arg
from assets.core.engines import dbt_env, environment
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths

DOCS_DIR = "docs"
DOCS_PAGE = "index.html"
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


def docs_args(target: str, vars_: list[str]) -> list[str]:
    """`dbt docs generate` for the published site.

    `--no-compile`: the models' SQL as written is what the site shows; compiling it again would
    only add time. Without compiling, dbt writes no manifest and `--static` inlines the one it
    finds in its target folder: the run's prepared manifest is copied there first. On Spark the
    catalog would start a second Spark session for the column types: `--empty-catalog` keeps the
    descriptions and lineage and leaves the types out.
    """
    args = ["docs", "generate", "--static", "--no-compile", *vars_, "--target", target]
    return args + (["--empty-catalog"] if target == "spark" else [])


def install_site(built: Path, docs: Path) -> Path:
    """Copy the static page (as index.html) and the artifacts from dbt's target folder (or a cache
    entry) into `docs`; each file is replaced atomically, so a reader never opens half a page."""
    page = built / STATIC_PAGE
    if not page.is_file():
        raise dg.Failure(f"dbt docs generate wrote no {STATIC_PAGE} into {built}; see the dbt log above")
    docs.mkdir(parents=True, exist_ok=True)
    for source, name in [(page, DOCS_PAGE), *((built / a, a) for a in ARTIFACTS)]:
        if source.is_file():
            tmp = docs / f".{name}.tmp"
            shutil.copyfile(source, tmp)
            os.replace(tmp, docs / name)
    return docs / DOCS_PAGE


# --------------------------------------------------------------------------------------------------
# The cache


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


def _remove(path: Path) -> None:
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
        _remove(old)
    now = time.time()
    for p in cache.glob(".t*-*") if cache.is_dir() else []:
        try:
            stale = p.name.startswith(".trash-") or now - p.stat().st_mtime > STALE_SECONDS
        except OSError:
            continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------------------------------


@dg.asset(
    name="dbt_docs",
    group_name="publishing",
    deps=[dg.AssetKey("published_marts")],
    description="The dbt docs site of the published marts and audit tables (descriptions, columns, "
    "lineage) as one offline page, <out>/docs/index.html.",
    owners=["team:data-engineering"],
    kinds={"dbt", "html"},
    # The catalog and the schema digest read the warehouse file, which a writer holds exclusively:
    # same pool as the writers.
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_docs(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: StrataPaths
) -> dg.MaterializeResult:
    target, settings = paths.target, paths.settings()
    manifest, cache, docs = require_manifest(), docs_cache_dir(), paths.out / DOCS_DIR
    vars_ = vars_arg(settings)
    parts = key_parts(manifest, target, vars_, paths.warehouse)
    key = cache_key(parts)
    entry = cache / key
    # None: a whole entry under this key; else why the site is made again.
    reason = entry_problem(entry) if entry.is_dir() else miss_reason(cache, parts)
    if reason is None:
        try:
            os.utime(entry)  # its newest use, for pruning
            page = install_site(entry, docs)
        except OSError as err:  # pruned by another worker while we copied: make it
            reason = f"the cached entry went away while it was installed ({err})"
        else:
            context.log.info(f"dbt docs site reused from the cache (key {key[:16]}, no dbt run): {page}")
            return _result(page, "reused", key, None)
    if entry.exists():
        _remove(entry)  # damaged: replaced by the one made below
    built = cache.parent / f"docs-{context.run.run_id[:8]}-{uuid.uuid4().hex[:8]}"
    built.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest, built / "manifest.json")
    try:
        try:
            with environment(dbt_env(target, paths.warehouse, paths.out, settings.warehouse)):
                dbt.cli(docs_args(target, vars_), raise_on_error=True, target_path=built).wait()
        except DagsterDbtCliRuntimeError as err:
            raise failed_build(err) from err  # retried only when another process holds the warehouse
        page = install_site(built, docs)
        try:
            store_site(built, cache, key, parts)
            prune(cache)
        except OSError as err:  # the site is published; only the next run's shortcut is lost
            context.log.warning(f"dbt docs site not cached: {err}")
    finally:
        shutil.rmtree(built, ignore_errors=True)
    context.log.info(f"dbt docs site generated ({reason}; key {key[:16]}): {page}")
    return _result(page, "generated", key, reason)


def _result(page: Path, how: str, key: str, reason: str | None) -> dg.MaterializeResult:
    metadata = {
        "path": dg.MetadataValue.path(str(page)),
        "bytes": page.stat().st_size,
        "site": how,  # generated (a dbt run) or reused (from the cache)
        "cache_key": key,
    }
    if reason:
        metadata["regenerated_because"] = reason
    return dg.MaterializeResult(metadata=metadata)

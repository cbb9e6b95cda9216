"""The dbt docs site: every model, source, column description and the lineage, as one offline page.

`dbt docs generate --static` writes `static_index.html` with the manifest and the catalog (the
warehouse's column types) inlined, so the page opens from the file system without a web server
(dbt's plain `index.html` fetches `manifest.json` and cannot). The asset copies it to
`<out>/docs/index.html` (replaced atomically), next to the `manifest.json` and `catalog.json` it
was made from, for tools that read dbt's artifacts. The segment report links to it.

A site generated once is reused while the manifest and the warehouse schema stay the same
(assets/docs_cache.py): a run with the same key installs the cached site and starts no dbt.
"""

import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from assets.core.dbt import failed_build, require_manifest, stopped_on_exit, vars_arg
from assets.core.engines import dbt_env, environment
from assets.core.folder_cache import remove_entry
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries
from assets.docs_cache import (
    ARTIFACTS,
    STATIC_PAGE,
    cache_key,
    docs_cache_dir,
    entry_problem,
    key_parts,
    miss_reason,
    prune,
    store_site,
)

DOCS_DIR = "docs"
DOCS_PAGE = "index.html"


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
@transient_retries
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
        remove_entry(entry)  # damaged: replaced by the one made below
    built = cache.parent / f"docs-{context.run.run_id[:8]}-{uuid.uuid4().hex[:8]}"
    built.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest, built / "manifest.json")
    try:
        try:
            with (environment(dbt_env(target, paths.warehouse, paths.out, settings.warehouse)),
                  stopped_on_exit(dbt.cli(docs_args(target, vars_), raise_on_error=True,
                                          target_path=built)) as invocation):
                invocation.wait()
        except DagsterDbtCliRuntimeError as err:
            raise failed_build(err) from err  # retried when transient (a locked warehouse)
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

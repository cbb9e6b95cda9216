"""The ingestion assets: one per contract entity, partitioned by month, loading landing batches.

API for the orchestration (`orchestration/definitions.py`, `strata materialize`):
- `ingestion_assets(partitions_def)`: the 16 assets, key `[system, entity]`, group
  `ingestion_<system>`, partitioned by month (`assets.core.partitions.month_partitions`, from the
  configured first month), single-run backfills, resource `paths` (StrataPaths).
- `INGESTION_KEYS`: their keys (known without building them).
- `landing_refusals(landing_root)`: what in the landing folder belongs to no loadable batch (unknown
  system or entity folders, batch folders that are not months, stray files, symlinks leaving the
  root), for the caller to report. Every ingestion asset run also writes them to
  `audit.load_batches` (replacing the previous scan's) and logs them; an entity's asset fails on
  the non-month folders under its own entity folder.

A run loads every batch of its entity whose month is among the run's partition keys and exists in
the landing folder. A refused batch does not stop the others: they load, then the asset raises
`dg.Failure` naming every refused file and its reason.
"""

import warnings
from pathlib import Path

import dagster as dg
import duckdb

from assets.core.build_plan import FULL_REFRESH_TAG
from assets.core.contract import Entity, entities
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import transient_retries

from . import audit
from .landing_scan import FolderRefusal, scan_landing
from .loader import BatchResult, load_batches, prepare_warehouse

INGESTION_KEYS: list[dg.AssetKey] = [dg.AssetKey([e.system, e.name]) for e in entities().values()]


def landing_refusals(landing_root: Path | str) -> list[FolderRefusal]:
    """Folder-level refusals of the landing folder (each has `.path` and `.message`)."""
    return scan_landing(landing_root).refusals


def _description(ent: Entity) -> str:
    if ent.kind == "snapshot":
        how = ("Snapshot: each month's batch is the whole table as of the month's last day; every "
               "batch is kept (history by `_batch`), the newest is the current state.")
    else:
        how = f"Transactional: batch YYYY-MM holds the rows whose `{ent.batch_by}` falls in that month."
    cols = "; ".join(
        f"{c.name} {c.type}" + (" nullable" if c.nullable else "")
        + (f" [{' | '.join(c.enum)}]" if c.enum else "")
        for c in ent.columns
    )
    return (f"{ent.system.upper()} {ent.name} from the landing folder "
            f"(`{ent.system}/{ent.name}/<YYYY-MM>/`) into `raw.{ent.table}`, key ({', '.join(ent.key)}). "
            f"{how} Rows breaking a row rule go to `audit.quarantined_rows`; every batch is "
            f"accounted for in `audit.load_batches`. Columns: {cols}.")


def _column_schema(ent: Entity) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.duckdb_type, description=c.note,
                       constraints=dg.TableColumnConstraints(nullable=c.nullable))
        for c in ent.columns
    ])


def _metadata(results: list[BatchResult], months: list[str]) -> dict:
    loaded = [r for r in results if r.loaded]
    refused = [r for r in results if r.refused]
    found = {r.batch for r in results}
    return {
        "batches_unchanged": dg.MetadataValue.int(sum(1 for r in results if r.status == "UNCHANGED")),
        "rows_read": dg.MetadataValue.int(sum(r.rows_read for r in loaded)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in loaded)),
        "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in loaded)),
        "batches_loaded": dg.MetadataValue.int(len(loaded)),
        "batches_refused": dg.MetadataValue.int(len(refused)),
        "batches": dg.MetadataValue.json([r.as_metadata() for r in results]),
        "refused": dg.MetadataValue.json([{"batch": r.batch, "message": r.message} for r in refused]),
        "extra_columns": dg.MetadataValue.json(sorted({c for r in loaded for c in r.extra_columns})),
        "months_without_batch": dg.MetadataValue.json([m for m in months if m not in found]),
    }


def ingest(context: dg.AssetExecutionContext, paths: StrataPaths, ent: Entity) -> dg.MaterializeResult:
    """The body of every ingestion asset."""
    months = sorted(context.partition_keys)
    scan = scan_landing(paths.landing)
    refs = [b for b in scan.batches if (b.system, b.entity) == (ent.system, ent.name) and b.batch in months]
    own = [r for r in scan.refusals if (r.system, r.entity) == (ent.system, ent.name)]
    for r in scan.refusals:
        if r not in own:
            context.log.warning(f"landing folder: {r.message}")
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    loaded_messages: list[str] = []
    # DuckDB threads, memory limit and spill folder: the configuration's `warehouse:` section.
    settings = paths.settings()
    con = duckdb.connect(str(paths.warehouse), config=settings.warehouse.duckdb_config())
    try:
        prepare_warehouse(con)
        audit.replace_folder_refusals(con, scan.refusals)
        # a full refresh rebuilds everything, the raw layer too: every batch is loaded again
        full_refresh = context.run.tags.get(FULL_REFRESH_TAG) == "true"
        loaded = {} if full_refresh else audit.loaded_fingerprints(con)
        results = load_batches(con, paths.landing, refs, loaded, at_once=settings.warehouse.thread_count())
        for result in results:
            if result.refused:
                context.log.error(result.message)
            else:
                loaded_messages.append(f"{result.batch}: {result.message}")
    finally:
        con.close()
        # One log entry for all the batches: each entry is a write to the run's event log.
        if loaded_messages:
            context.log.info("\n".join(loaded_messages))
    metadata = _metadata(results, months)
    refused = [r.message for r in results if r.refused] + [r.message for r in own]
    if refused:
        loaded = sum(1 for r in results if r.loaded)
        raise dg.Failure(
            description=(f"{ent.system}/{ent.name}: {len(refused)} refusal(s); {loaded} batch(es) "
                         "loaded.\n" + "\n".join(f"- {m}" for m in refused)),
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


def build_ingestion_asset(ent: Entity, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    with warnings.catch_warnings():
        # backfill_policy is marked beta, but single-run backfills are what a range load needs.
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _build(ent, partitions_def)


def _build(ent: Entity, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([ent.system, ent.name]),
        group_name=f"ingestion_{ent.system}",
        description=_description(ent),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb"},
        pool=WAREHOUSE_WRITER_POOL,
        metadata={"dagster/table_name": f"raw.{ent.table}", "dagster/column_schema": _column_schema(ent)},
    )
    @transient_retries  # a refused batch is bad input: it fails at once
    def _asset(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
        return ingest(context, paths, ent)

    return _asset


def ingestion_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """One asset per contract entity, on the shared month partitions."""
    return [build_ingestion_asset(e, partitions_def) for e in entities().values()]

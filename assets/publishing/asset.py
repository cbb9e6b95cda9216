"""The Dagster asset `published_marts`: publishes only after a fully successful run."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from assets.core.checks import stops_the_run
from assets.core.pools import WAREHOUSE_WRITER_POOL
from assets.core.resources import StrataPaths
from assets.core.retries import is_transient, transient_retries
from assets.publishing.copy import MART_KEYS, PUBLISHED_DUCKDB, PublishError, publish_version


@dataclass
class RunOutcome:
    """What this run's event log says before publishing."""

    problems: list[str] = field(default_factory=list)  # forbid publishing
    warnings: list[str] = field(default_factory=list)  # failed non-blocking checks: published anyway


def run_outcome(instance: dg.DagsterInstance, run_id: str) -> RunOutcome:
    """Failed steps, and failed checks that stop the run (blocking and ERROR: `stops_the_run`),
    forbid publishing; every other failed check is a warning and the copy is published.

    Dagster already skips the publishing step after either; this is the asset's own check of the
    same rule (the stack notes warn that a blocking check has not always stopped downstream assets).
    """
    outcome = RunOutcome()
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            outcome.problems.append(f"step {event.step_key} failed")
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            continue
        severity = (evaluation.severity or dg.AssetCheckSeverity.ERROR).value.lower()
        name = f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed ({severity})"
        (outcome.problems if stops_the_run(evaluation) else outcome.warnings).append(name)
    return outcome


def build_published_marts(dbt_models: dg.AssetsDefinition | Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publishing asset, downstream of every mart the dbt project defines.

    It runs only when every upstream step succeeded (Dagster skips it otherwise, and blocking checks
    stop it), and refuses by itself when a step or a blocking check of its run failed, so a copy is
    replaced only after a fully successful materialisation.
    """
    keys = dbt_models.keys if isinstance(dbt_models, dg.AssetsDefinition) else dbt_models
    marts = sorted((k for k in keys if k.path[-1] in MART_KEYS), key=lambda k: k.to_user_string())

    @dg.asset(
        name="published_marts",
        group_name="publishing",
        deps=marts,
        description="The published copy of the marts and audit tables under <out>/published/ "
        "(Parquet, one folder a table, and marts.duckdb for DuckDB < 2.0), swapped in atomically "
        "after a fully successful run.",
        owners=["team:data-engineering"],
        kinds={"parquet", "duckdb"},
        # It reads the warehouse file, which a writer holds exclusively: same pool as the writers.
        pool=WAREHOUSE_WRITER_POOL,
    )
    @transient_retries  # a warehouse busy with a writer, a full disk
    def published_marts(context: dg.AssetExecutionContext, paths: StrataPaths) -> dg.MaterializeResult:
        outcome = run_outcome(context.instance, context.run.run_id)
        if outcome.problems:
            raise dg.Failure(
                "not publishing: this run is not fully successful; the last good copy stays",
                metadata={"problems": dg.MetadataValue.json(outcome.problems)},
            )
        try:
            pub = publish_version(
                paths.warehouse, paths.out, context.run.run_id, require=[k.path[-1] for k in marts],
                dbt_target=paths.target,
            )
        except PublishError as exc:
            if is_transient(exc):  # a warehouse locked by another process may be free on the next try
                raise
            # A missing mart or a non-link in place of <out>/published: retrying cannot help.
            raise dg.Failure(str(exc)) from exc
        context.log.info(f"published {len(pub.rows)} tables to {paths.published} -> {pub.version.name} "
                         f"({pub.manifest['plan']})")
        if pub.outside_plan:  # the copy is right; the build plan missed a change (docs/incremental.md)
            context.log.warning("months rewritten that no build plan named (their row counts changed): "
                                + ", ".join(f"{t} {', '.join(m)}" for t, m in pub.outside_plan.items()))
        if pub.undescribed:  # the copy is right; its documentation is not (dbt YAML, docs/marts.md)
            context.log.warning("published without a description (add one in the model's dbt YAML): "
                                + ", ".join(pub.undescribed))
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(paths.published)),
                "version": pub.version.name,
                "duckdb_file": dg.MetadataValue.path(str(paths.published / PUBLISHED_DUCKDB)),
                "rows": dg.MetadataValue.json(pub.rows),
                **{f"rows/{t}": n for t, n in pub.rows.items()},
                "pruned_versions": dg.MetadataValue.json(pub.pruned),
                "based_on": pub.manifest["based_on"] or "",
                "plan": pub.manifest["plan"],
                "rewritten_months": dg.MetadataValue.json(
                    {t: e.get("rewritten_months") for t, e in pub.manifest["tables"].items()}),
                "months_outside_plan": dg.MetadataValue.json(pub.outside_plan),
                "failed_non_blocking_checks": dg.MetadataValue.json(outcome.warnings),
                "undescribed_columns": dg.MetadataValue.json(pub.undescribed),
            }
        )

    return published_marts

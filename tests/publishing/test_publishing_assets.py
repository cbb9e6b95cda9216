"""The publishing assets in Dagster: published only after a fully successful run.

The marts come from a stand-in multi-asset (same keys as the dbt marts, `marts/<name>`) that copies
the fixture warehouse into place, with a blocking check like the ones dagster-dbt makes of
error-severity dbt tests.
"""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.core.resources import StrataPaths
from assets.publishing import MART_KEYS, build_published_marts, open_published, run_outcome

MART_ASSET_KEYS = [dg.AssetKey(["marts", name]) for name in MART_KEYS]
CHECKED = dg.AssetKey(["marts", "segment_kpis"])


def stand_in_marts(
    template: Path,
    *,
    check_passes: bool = True,
    severity=dg.AssetCheckSeverity.ERROR,
    blocking: bool = True,
    step_fails: bool = False,
) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="dbt_models",
        specs=[dg.AssetSpec(k, group_name="finance") for k in MART_ASSET_KEYS],
        check_specs=[dg.AssetCheckSpec("not_null_segment", asset=CHECKED, blocking=blocking)],
    )
    def marts(context: dg.AssetExecutionContext, paths: StrataPaths):
        shutil.copyfile(template, paths.warehouse)
        for key in MART_ASSET_KEYS:
            yield dg.MaterializeResult(asset_key=key)
        if step_fails:
            raise RuntimeError("dbt build failed")
        yield dg.AssetCheckResult(
            asset_key=CHECKED, check_name="not_null_segment", passed=check_passes, severity=severity
        )

    return marts


def run(
    marts: dg.AssetsDefinition, out: Path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    paths = StrataPaths(landing_dir=str(out / "landing"), out_dir=str(out))
    return dg.materialize(
        [marts, build_published_marts(marts)],
        resources={"paths": paths},
        raise_on_error=False,
        instance=instance or dg.DagsterInstance.ephemeral(),
    )


def published_materialized(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        e.asset_key == dg.AssetKey("published_marts") for e in result.get_asset_materialization_events()
    )


def test_the_publishing_asset_depends_on_every_mart_and_sits_in_group_publishing(marts_warehouse_template):
    published = build_published_marts(stand_in_marts(marts_warehouse_template))
    spec = next(iter(published.specs))
    assert {d.asset_key for d in spec.deps} == set(MART_ASSET_KEYS)
    assert spec.group_name == "publishing"


def test_the_real_dbt_marts_are_all_upstream_of_the_published_copy():
    from assets.dbt_models import dbt_models

    published = build_published_marts(dbt_models())
    deps = {d.asset_key.path[-1] for d in next(iter(published.specs)).deps}
    assert deps == set(MART_KEYS)


def test_a_successful_run_publishes(marts_warehouse_template, out_dir):
    result = run(stand_in_marts(marts_warehouse_template), out_dir)
    assert result.success
    assert published_materialized(result)
    copy = open_published(out_dir)
    assert copy.run_id == result.run_id
    mat = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("published_marts")
    ).materialization
    assert mat.metadata["rows/segment_kpis"].value == copy.tables["segment_kpis"]["rows"]


def published_step_events(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.event_type_value for e in result.all_events if e.step_key == "published_marts"]


@pytest.mark.parametrize(
    "failure",
    [
        {"check_passes": False},  # a blocking check fails (what dagster-dbt makes of an error-severity test)
        {"step_fails": True},  # dbt build fails after some marts were built
    ],
    ids=["blocking-check", "mart-step-fails"],
)
def test_a_failed_run_never_replaces_the_published_copy(marts_warehouse_template, out_dir, failure):
    good = run(stand_in_marts(marts_warehouse_template), out_dir)
    assert good.success
    instance = dg.DagsterInstance.ephemeral()
    bad = run(stand_in_marts(marts_warehouse_template, **failure), out_dir, instance)
    assert not bad.success
    assert not published_materialized(bad)
    assert published_step_events(bad) == []  # Dagster never started the publishing step
    assert open_published(out_dir).run_id == good.run_id
    # The asset's own check of the run's event log agrees.
    assert run_outcome(instance, bad.run_id).problems


@pytest.mark.parametrize("severity", [dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR])
def test_a_failed_non_blocking_check_does_not_stop_publishing(marts_warehouse_template, out_dir, severity):
    result = run(
        stand_in_marts(marts_warehouse_template, check_passes=False, severity=severity, blocking=False),
        out_dir,
    )
    assert result.success
    assert open_published(out_dir).run_id == result.run_id
    mat = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("published_marts")
    ).materialization
    assert mat.metadata["failed_non_blocking_checks"].value == [
        f"check marts/segment_kpis:not_null_segment failed ({severity.value.lower()})"
    ]

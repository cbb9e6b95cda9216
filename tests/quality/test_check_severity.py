"""A failed check's printed severity says what it did to the run (issue: a WARN that stopped publishing).

One rule everywhere, Dagster's: a failed check stops what is downstream only when it is blocking and
of severity ERROR. These tests hold Dagster, the publishing guard (`run_outcome`) and the printed
summary (`failed_checks`) to it, and every check strata declares to a severity that matches its
blocking flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.core.resources import StrataPaths
from assets.publishing import run_outcome
from orchestration.definitions import build_definitions
from quality.checks import asset_keys, check_defs, resolve
from quality.ranges import ERROR, WARN
from quality.summary import failed_checks, stops_the_run

MANIFEST = Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "manifest.json"


@pytest.mark.parametrize(
    ("blocking", "severity"),
    [
        (True, dg.AssetCheckSeverity.ERROR),
        (True, dg.AssetCheckSeverity.WARN),
        (False, dg.AssetCheckSeverity.WARN),
        (False, dg.AssetCheckSeverity.ERROR),
    ],
)
def test_dagster_the_publishing_guard_and_the_summary_agree(blocking, severity):
    @dg.asset
    def checked() -> None:
        return None

    @dg.asset_check(asset=checked, blocking=blocking)
    def planted() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=severity, description="planted failure")

    @dg.asset(deps=[checked])
    def downstream() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [checked, downstream, planted], instance=instance, raise_on_error=False
    )
    stops = blocking and severity == dg.AssetCheckSeverity.ERROR

    # Dagster: only a blocking ERROR keeps `downstream` from running.
    ran = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert ("downstream" in ran) is not stops
    [evaluation] = result.get_asset_check_evaluations()
    assert stops_the_run(evaluation) is stops
    # The publishing guard refuses exactly then (the failed check step is one of its problems).
    outcome = run_outcome(instance, result.run_id)
    assert bool(outcome.problems) is stops
    assert outcome.warnings == ([] if stops else [f"check checked:planted failed ({severity.value.lower()})"])
    # The summary prints it in the group that says what it did.
    checks = failed_checks(instance, result.run_id)
    line = f"{severity.value} checked:planted{' (blocking)' if stops else ''} — planted failure"
    assert (checks.blocking, checks.warnings) == (([line], []) if stops else ([], [line]))


def _declared_checks() -> dict[dg.AssetCheckKey, dg.AssetCheckSpec]:
    graph = build_definitions(StrataPaths(landing_dir="landing", out_dir="out")).resolve_asset_graph()
    return {key: graph.get_check_spec(key) for key in graph.asset_check_keys}


def test_every_declared_check_is_blocking_exactly_when_it_can_fail_with_error():
    declared = _declared_checks()
    known = asset_keys(declared[k].asset_key for k in declared)
    # strata's own checks (quality/): the blocking flag Dagster holds is the one the severities give.
    ours = {c.key: c for c in (resolve(c, known) for c in check_defs()) if c is not None}
    for key, check in ours.items():
        assert check.severities and check.severities <= {WARN, ERROR}, key
        assert declared[key].blocking is (ERROR in check.severities), key
    # dbt tests (dagster-dbt): blocking exactly when the test's severity is error, and a failure
    # carries that severity, so a `warn` test never stops the run and an `error` one always does.
    tests = {
        node["name"]: node["config"]["severity"].upper()
        for node in json.loads(MANIFEST.read_text())["nodes"].values()
        if node["resource_type"] == "test"
    }
    dbt_checks = {k: s for k, s in declared.items() if k not in ours}
    assert dbt_checks, "the dbt tests are no asset checks any more"
    for key, spec in dbt_checks.items():
        assert key.name in tests, f"{key} is neither a quality/ check nor a dbt test"
        assert tests[key.name] in (WARN, ERROR), key
        assert spec.blocking is (tests[key.name] == ERROR), key
    # ... and every dbt test is one. A test that reads several models and names no asset
    # (`config(meta={'dagster': {'ref': ...}})`) still runs in dbt, but reaches Dagster only as an
    # observation, with a warning in every run's log, and the UI shows no check for it.
    assert len(tests) > 150 and set(tests) - {key.name for key in dbt_checks} == set()

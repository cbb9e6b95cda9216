"""The failed checks of a run, and the one rule that says which of them stop it.

    from quality.summary import failed_checks, stops_the_run
    checks = failed_checks(result)                     # an ExecuteInProcessResult
    checks = failed_checks(instance, run_id)           # or the instance and the run's id
    checks.blocking, checks.warnings                   # lines for `strata materialize` to print

Covers every asset check evaluation of the run: these checks and the dbt tests alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from assets.core.checks import stops_the_run


@dataclass
class FailedChecks:
    """One line per failed check evaluation, in the group that says what it did to the run:
    `ERROR margin_reconciliation:cost_pools_reconcile (blocking) — data failed: ...`."""

    blocking: list[str] = field(default_factory=list)  # stopped what is downstream (nothing published)
    warnings: list[str] = field(default_factory=list)  # reported; the run went on

    def __bool__(self) -> bool:
        return bool(self.blocking or self.warnings)

    @property
    def lines(self) -> list[str]:
        return self.blocking + self.warnings

    def __iadd__(self, other: FailedChecks) -> FailedChecks:
        """Another run's failed checks added (a materialisation of several runs)."""
        self.blocking += other.blocking
        self.warnings += other.warnings
        return self


def _evaluations(run_result_or_instance, run_id: str | None) -> list[dg.AssetCheckEvaluation]:
    if isinstance(run_result_or_instance, dg.DagsterInstance):
        if not run_id:
            raise ValueError("give the run_id with a DagsterInstance")
        records = run_result_or_instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        events = [r.dagster_event for r in records if r.dagster_event is not None]
    else:
        events = [
            e
            for e in run_result_or_instance.all_events
            if e.event_type_value == dg.DagsterEventType.ASSET_CHECK_EVALUATION.value
        ]
    return [e.asset_check_evaluation_data for e in events]


def failed_checks(run_result_or_instance, run_id: str | None = None) -> FailedChecks:
    """The run's failed checks, each group sorted by asset and check."""
    out = FailedChecks()
    evaluations = _evaluations(run_result_or_instance, run_id)
    for ev in sorted(evaluations, key=lambda e: (e.asset_key.to_user_string(), e.check_name)):
        if ev.passed:
            continue
        stops = stops_the_run(ev)
        severity = (ev.severity or dg.AssetCheckSeverity.ERROR).value
        text = (ev.description or "").strip() or _from_metadata(ev.metadata)
        name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
        (out.blocking if stops else out.warnings).append(
            f"{severity} {name}{' (blocking)' if stops else ''} — {text}"
        )
    return out


def _from_metadata(metadata) -> str:
    outcome = metadata.get("outcome") if metadata else None
    value = getattr(outcome, "value", outcome)
    return str(value) if value else "failed"

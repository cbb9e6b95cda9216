"""The failed checks of a run, as short lines for `strata materialize` to print.

    from quality.summary import failed_checks
    for line in failed_checks(result):                      # an ExecuteInProcessResult
    for line in failed_checks(instance, run_id):            # or the instance and the run's id

Covers every asset check evaluation of the run: these checks and the dbt tests alike.
"""

from __future__ import annotations

import dagster as dg

_ORDER = {"ERROR": 0, "WARN": 1}


def _evaluations(run_result_or_instance, run_id: str | None):
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


def failed_checks(run_result_or_instance, run_id: str | None = None) -> list[str]:
    """One line per failed check evaluation of the run, ERROR before WARN:
    `ERROR margin_reconciliation:cost_pools_reconcile (blocking) — data failed: ...`."""
    rows = []
    for ev in _evaluations(run_result_or_instance, run_id):
        if ev.passed:
            continue
        severity = ev.severity.value if ev.severity is not None else "ERROR"
        blocking = " (blocking)" if ev.blocking and severity == "ERROR" else ""
        text = (ev.description or "").strip() or _from_metadata(ev.metadata)
        line = f"{severity} {ev.asset_key.to_user_string()}:{ev.check_name}{blocking} — {text}"
        rows.append((_ORDER.get(severity, 2), ev.asset_key.to_user_string(), ev.check_name, line))
    return [r[-1] for r in sorted(rows)]


def _from_metadata(metadata) -> str:
    outcome = metadata.get("outcome") if metadata else None
    value = getattr(outcome, "value", outcome)
    return str(value) if value else "failed"

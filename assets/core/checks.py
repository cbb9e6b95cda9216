"""The one rule that says which failed checks stop a run (publishing, the summary, the CLI)."""

from __future__ import annotations

import dagster as dg


def stops_the_run(evaluation: dg.AssetCheckEvaluation) -> bool:
    """Dagster's rule, and strata's everywhere (publishing, the printed summary): a failed check stops
    what is downstream only when it is declared blocking **and** failed with severity ERROR. A failed
    WARN is reported and the run goes on to publish, whether or not its check is blocking."""
    severity = evaluation.severity or dg.AssetCheckSeverity.ERROR  # Dagster's default severity
    return not evaluation.passed and bool(evaluation.blocking) and severity == dg.AssetCheckSeverity.ERROR

"""An evaluation of a suite as a Dagster asset check result: passed, severity, and metadata a
person can act on (the failing rules, counts, example rows), or why the check could not run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from quality import ranges
from quality.gx_runner import CHECK_RAISED, TABLE_MISSING, Evaluation, docs_dir, docs_mode
from quality.ranges import ERROR
from quality.suites import Rule


def fmt(v) -> str:
    """A value as a person reads it: dates without a midnight time, whole floats without '.0'."""
    if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(v)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    if isinstance(v, np.integer | np.bool_):
        return str(v.item())
    return str(v)


def md_table(df: pd.DataFrame, limit: int | None = None) -> str:
    """A small frame as a Markdown table (Dagster renders it in the check's metadata)."""
    limit = ranges.EXAMPLE_ROWS if limit is None else limit
    df = df.head(limit)
    if df.empty:
        return "(no rows)"

    def cell(v) -> str:
        return fmt(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _labels(ev: Evaluation, rows: list[int]) -> list[str]:
    cols = [c for c in ev.spec.label_columns if c in ev.frame.columns]
    if not cols:
        return [str(r) for r in rows]
    return [" ".join(fmt(v) for v in ev.frame.loc[r, cols]) for r in rows]


Examples = Callable[[Rule, pd.DataFrame], pd.DataFrame | None]


def check_result(
    ev: Evaluation,
    *,
    examples: Examples | None = None,
    metadata: dict[str, Any] | None = None,
    out: Path | None = None,
    description: str | None = None,
) -> dg.AssetCheckResult:
    """The AssetCheckResult of an evaluation: passed, severity, and metadata a person can act on.

    `description` replaces the generated one-line summary (a check that can say it better).

    `examples(rule, failing_frame_rows)` returns a few offending rows for a failed rule (e.g. raw
    rows fetched from DuckDB); without it the failing frame rows themselves are the examples.
    """
    md: dict[str, Any] = {"outcome": ev.outcome, "suite": ev.spec.name, "frame_rows": len(ev.frame)}
    md.update(metadata or {})
    parts: list[str] = []
    failed = []
    for f in ev.failures:
        where = _labels(ev, f.rows)
        entry = {
            "rule": f.rule.id,
            "text": f.rule.text,
            "why": f.rule.why,
            "severity": f.rule.severity,
            "expectation": f.rule.expectation,
            "kwargs": {k: v for k, v in f.rule.kwargs.items()},
            "failing": where[:20],
            "unexpected_count": f.unexpected_count,
            "element_count": f.element_count,
        }
        if f.offending_rows is not None:
            entry["offending_rows"] = f.offending_rows
        failed.append(entry)
        count = (
            f"{f.offending_rows:,} rows" if f.offending_rows is not None else f"{f.unexpected_count:,} rows"
        )
        parts.append(f"{f.rule.text}: {count} in {', '.join(where[:3])}{' …' if len(where) > 3 else ''}")
        failing_rows = ev.frame.loc[f.rows]
        sample = examples(f.rule, failing_rows) if examples else None
        if sample is None:
            sample = failing_rows
        md[f"examples/{f.rule.id}"] = dg.MetadataValue.md(md_table(sample))
    if failed:
        md["failed_expectations"] = dg.MetadataValue.json(failed)
    if ev.raised:
        md["errors"] = dg.MetadataValue.json(
            [
                {"rule": r.id if r else None, "expectation": r.expectation if r else None, "error": m}
                for r, m in ev.raised
            ]
        )
        parts = [f"the validation raised ({r.id if r else 'suite'}): {m}" for r, m in ev.raised] + parts
    if out is not None and (docs_mode() == "all" or (docs_mode() == "failures" and not ev.passed)):
        md["data_docs"] = dg.MetadataValue.path(str(docs_dir(out) / "index.html"))
    if description is None:
        description = ev.outcome if not parts else f"{ev.outcome}: " + "; ".join(parts)
    return dg.AssetCheckResult(
        passed=ev.passed,
        severity=dg.AssetCheckSeverity.ERROR if ev.severity == ERROR else dg.AssetCheckSeverity.WARN,
        metadata=md,
        description=description[:1000],
    )


def missing_result(what: str, blocking: bool = False, hint: str = "") -> dg.AssetCheckResult:
    """A check whose table is not there (yet): said plainly, never a crash, and never blocking.

    A mart that the dbt project does not build yet, or that failed to build, has nothing to check;
    the dbt step's own failure is what stops the run in the second case.
    """
    text = f"{what} does not exist in the warehouse{': ' + hint if hint else ''}; nothing was checked"
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"outcome": TABLE_MISSING, "missing": what, "blocking_check": blocking},
        description=f"{TABLE_MISSING}: {text}",
    )


def raised_result(exc: BaseException, blocking: bool) -> dg.AssetCheckResult:
    """The check's own code raised (e.g. a query on a table of an unexpected shape)."""
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={"outcome": CHECK_RAISED, "error": f"{type(exc).__name__}: {exc}"},
        description=f"{CHECK_RAISED}: {type(exc).__name__}: {exc}"[:1000],
    )

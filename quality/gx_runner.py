"""Run a suite on a pandas frame with Great Expectations and turn the result into an asset check.

One ephemeral GX context per process (creating it and importing GX is the slow part), a pandas
data source with one whole-dataframe asset per suite, progress bars off. When an output folder is
given, validations are also rendered into GX Data Docs under `<out>/quality/data_docs/` (those that
did not pass, or all of them: `ranges.DATA_DOCS`).

"The data failed" (an expectation did not hold) and "the validation raised" (GX could not evaluate
an expectation: its `exception_info` says so) are told apart: the first carries the failing
expectations, counts and example rows; the second carries the error, so nobody mistakes a broken
check for bad data, and a broken blocking check still blocks.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from quality import ranges
from quality.ranges import ERROR, WARN
from quality.suites import Rule, SuiteSpec

DATA_SOURCE = "strata"
DOCS_SITE = "strata"

_lock = threading.RLock()

# Outcomes, as the `outcome` metadata value of every result.
PASSED = "passed"
DATA_FAILED = "data failed"
VALIDATION_RAISED = "validation raised"
TABLE_MISSING = "table missing"
CHECK_RAISED = "check raised"


@cache
def context():
    """The process's ephemeral GX context (built once: importing GX alone takes seconds)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ctx.data_sources.add_pandas(DATA_SOURCE)
    return ctx


def docs_dir(out: Path) -> Path:
    return Path(out) / "quality" / "data_docs"


def _site_config(directory: Path) -> dict:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)},
    }


def _point_docs_at(ctx, directory: Path) -> None:
    sites = dict(ctx.variables.data_docs_sites or {})
    wanted = _site_config(directory)
    if sites.get(DOCS_SITE) != wanted:
        sites[DOCS_SITE] = wanted
        ctx.variables.data_docs_sites = sites


@dataclass
class _Registered:
    spec: SuiteSpec
    batch_def: Any
    suite: Any
    definition: Any
    checkpoint: Any = None  # with the Data Docs action, made when first needed


_registered: dict[str, _Registered] = {}


def _register(ctx, spec: SuiteSpec) -> _Registered:
    """The suite's GX objects, registered once per process and again only when the suite changed."""
    import great_expectations as gx

    known = _registered.get(spec.name)
    if known is not None and known.spec == spec:
        return known
    source = ctx.data_sources.get(DATA_SOURCE)
    try:
        asset = source.get_asset(spec.name)
    except LookupError:
        asset = source.add_dataframe_asset(spec.name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    suite = ctx.suites.add_or_update(spec.gx_suite())
    definition = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=spec.name, data=batch_def, suite=suite)
    )
    _registered[spec.name] = reg = _Registered(spec, batch_def, suite, definition)
    return reg


def _docs_checkpoint(ctx, reg: _Registered):
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    if reg.checkpoint is None:
        reg.checkpoint = ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=reg.spec.name,
                validation_definitions=[reg.definition],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
                result_format=RESULT_FORMAT,
            )
        )
    return reg.checkpoint


RESULT_FORMAT = {"result_format": "COMPLETE"}


def docs_mode() -> str:
    """`ranges.DATA_DOCS` as one of "all", "failures", "off" (True and False mean "all" and "off")."""
    mode = ranges.DATA_DOCS
    if mode is True:
        return "all"
    if mode is False or mode is None:
        return "off"
    if mode not in ("all", "failures", "off"):
        raise ValueError(f"quality/ranges.py: DATA_DOCS must be 'all', 'failures' or 'off', not {mode!r}")
    return mode


def validate(spec: SuiteSpec, frame: pd.DataFrame, out: Path | None = None):
    """Validate `frame` against the suite; write Data Docs under `out` when given.

    Returns GX's ExpectationSuiteValidationResult. The frame keeps its RangeIndex, so the result's
    unexpected indexes are row positions in it. Data Docs (`ranges.DATA_DOCS`): "all" renders every
    validation; "failures" validates without storing and renders (validating again through a
    checkpoint) only a validation that did not pass, so the site lists what needs a look.
    """
    frame = frame.reset_index(drop=True)
    mode = docs_mode() if out is not None else "off"
    with _lock:
        ctx = context()
        reg = _register(ctx, spec)
        if mode != "all":
            result = reg.batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
                reg.suite, result_format=RESULT_FORMAT
            )
            if mode == "off" or result.success:
                return result
        _point_docs_at(ctx, docs_dir(out))
        run = _docs_checkpoint(ctx, reg).run(batch_parameters={"dataframe": frame})
        return next(iter(run.run_results.values()))


# --- reading the result ---------------------------------------------------------------------------


@dataclass
class Failure:
    rule: Rule
    rows: list[int]  # positions of the failing frame rows
    unexpected_count: int
    element_count: int
    offending_rows: int | None  # raw rows behind the failing frame rows (count_column), if known


@dataclass
class Evaluation:
    spec: SuiteSpec
    frame: pd.DataFrame
    failures: list[Failure] = field(default_factory=list)
    raised: list[tuple[Rule | None, str]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.raised:
            return VALIDATION_RAISED
        return DATA_FAILED if self.failures else PASSED

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED

    @property
    def severity(self) -> str:
        if self.raised:  # a check that cannot tell must not let a blocking check pass quietly
            return ERROR if self.spec.blocking else WARN
        return ERROR if any(f.rule.severity == ERROR for f in self.failures) else WARN


def _raised(info: Any) -> str | None:
    """The exception message if GX's exception_info says the expectation raised, else None."""
    if not info:
        return None
    if isinstance(info, dict):
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "raised")
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                return str(value.get("exception_message") or "raised")
        return None
    if getattr(info, "raised_exception", False):
        return str(getattr(info, "exception_message", "raised"))
    return None


def evaluate(spec: SuiteSpec, frame: pd.DataFrame, result) -> Evaluation:
    frame = frame.reset_index(drop=True)
    ev = Evaluation(spec=spec, frame=frame)
    for res in result.results:
        meta = res.expectation_config.meta or {}
        rule = spec.by_id.get(meta.get("rule"))
        message = _raised(res.exception_info)
        if message is not None:
            ev.raised.append((rule, message))
            continue
        if res.success or rule is None:
            continue
        info = res.result or {}
        rows = [int(i) for i in info.get("unexpected_index_list") or [] if isinstance(i, int | float)]
        offending = None
        if rule.count_column and rule.count_column in frame.columns and rows:
            offending = int(pd.to_numeric(frame.loc[rows, rule.count_column]).fillna(0).sum())
        ev.failures.append(
            Failure(
                rule=rule,
                rows=rows,
                unexpected_count=int(info.get("unexpected_count") or len(rows)),
                element_count=int(info.get("element_count") or len(frame)),
                offending_rows=offending,
            )
        )
    return ev


def run_suite(spec: SuiteSpec, frame: pd.DataFrame, out: Path | None = None) -> Evaluation:
    """Validate and read the result; an exception inside GX itself counts as 'validation raised'."""
    try:
        result = validate(spec, frame, out)
    except Exception as exc:  # GX failed before it could evaluate anything
        ev = Evaluation(spec=spec, frame=frame.reset_index(drop=True))
        ev.raised.append((None, f"{type(exc).__name__}: {exc}"))
        return ev
    return evaluate(spec, frame, result)


# --- turning it into an AssetCheckResult ----------------------------------------------------------


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

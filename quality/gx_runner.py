"""Run a suite on a pandas frame with Great Expectations (quality/check_results.py turns the
evaluation into an asset check).

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

import logging
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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

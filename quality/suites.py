"""Every Great Expectations suite of strata, built in this one place.

The suites come from the landing contract (`assets.core.contract`: which entities and columns
exist, their types, keys and `batch_by` dates) and the business table `quality/ranges.py` (bounds,
thresholds, severities); nothing is written by hand per entity.

A suite validates a *small* pandas frame: for the raw layer one row per batch of aggregates that
DuckDB computes (`min__quantity`, `below_min__quantity`, ...), for the marts the few rows of a small
mart or one row per month of aggregates. Each expectation is a `Rule` that also knows the SQL of
its frame column and of the rows it is about, so the check can count offending rows and fetch a
few examples without ever pulling a raw table into pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assets.core.contract import Entity, entities
from assets.core.settings import SEGMENT_CODES, Quality
from assets.core.sql import sql_ident
from quality import ranges
from quality.ranges import ERROR, WARN

if TYPE_CHECKING:  # GX is imported where a suite is built: it costs ~5 s, and loading the
    # Dagster definitions (code server, sensors, `strata materialize`) needs only the specs.
    import great_expectations as gx
    import great_expectations.expectations as gxe

BATCH_END_SQL = "last_day(CAST(_batch || '-01' AS DATE))"


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with what a person needs when it fails.

    `aggregates` are (frame column, SQL expression) pairs a per-batch frame computes for this rule
    (the column the expectation reads, and `count_column`, the number of offending raw rows);
    `violation` is the SQL condition that picks the offending raw rows for examples.
    """

    id: str
    text: str
    severity: str
    expectation: str  # the GX expectation class name, e.g. "ExpectColumnValuesToBeBetween"
    kwargs: dict[str, Any]
    count_column: str | None = None
    aggregates: tuple[tuple[str, str], ...] = ()
    violation: str | None = None
    example_columns: tuple[str, ...] = ()
    why: str = ""

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def gx_expectation(self) -> gxe.Expectation:
        import great_expectations.expectations as gxe

        cls = getattr(gxe, self.expectation)
        return cls(**self.kwargs, meta={"rule": self.id, "severity": self.severity, "text": self.text})


@dataclass(frozen=True)
class SuiteSpec:
    """A named suite: its rules and the frame columns that name a frame row in messages."""

    name: str
    rules: tuple[Rule, ...]
    label_columns: tuple[str, ...]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"suite {self.name}: rule ids must be unique, got {ids}")

    @cached_property
    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @property
    def severities(self) -> frozenset[str]:
        """The severities a failure of this suite can carry (its rules')."""
        return frozenset(r.severity for r in self.rules)

    @property
    def blocking(self) -> bool:
        """A check on this suite is blocking when any rule can fail with ERROR."""
        return ERROR in self.severities

    def gx_suite(self) -> gx.ExpectationSuite:
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=[r.gx_expectation() for r in self.rules])

    def aggregates(self) -> list[tuple[str, str]]:
        """Every (column, SQL expression) the suite's per-batch frame needs, in rule order."""
        seen: dict[str, str] = {}
        for rule in self.rules:
            for column, expr in rule.aggregates:
                seen.setdefault(column, expr)
        return list(seen.items())


def _num(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


# --- ingestion ------------------------------------------------------------------------------------


def value_ranges_of(ent: Entity) -> list[ranges.ValueRange]:
    return [r for r in ranges.VALUE_RANGES if (r.system, r.entity) == (ent.system, ent.name)]


def dates_checked(ent: Entity) -> list[str]:
    """Date and timestamp columns that must not lie after the batch month's end."""
    return [
        c.name
        for c in ent.columns
        if c.type in ("date", "timestamp")
        and c.name != ent.batch_by
        and (ent.system, ent.name, c.name) not in ranges.DATES_MAY_BE_LATER
    ]


def value_range_suite(ent: Entity) -> SuiteSpec | None:
    """Bounds of the entity's numeric columns and its dates, over one frame row per batch."""
    rules: list[Rule] = []
    keys = tuple(ent.key)
    for vr in value_ranges_of(ent):
        col = sql_ident(vr.column)
        if vr.min is not None:
            op = "<=" if vr.strict_min else "<"
            bound = ">" if vr.strict_min else "≥"
            rules.append(
                Rule(
                    id=f"{vr.column}.min",
                    text=f"{vr.column} {bound} {_num(vr.min)}",
                    why=vr.why,
                    severity=vr.severity,
                    expectation="ExpectColumnValuesToBeBetween",
                    kwargs={"column": f"min__{vr.column}", "min_value": vr.min, "strict_min": vr.strict_min},
                    count_column=f"below_min__{vr.column}",
                    aggregates=(
                        (f"min__{vr.column}", f"CAST(min({col}) AS DOUBLE)"),
                        (f"below_min__{vr.column}", f"count(*) FILTER (WHERE {col} {op} {_num(vr.min)})"),
                    ),
                    violation=f"{col} {op} {_num(vr.min)}",
                    example_columns=(*keys, vr.column),
                )
            )
        if vr.max is not None:
            rules.append(
                Rule(
                    id=f"{vr.column}.max",
                    text=f"{vr.column} ≤ {_num(vr.max)}",
                    why=vr.why,
                    severity=vr.severity,
                    expectation="ExpectColumnValuesToBeBetween",
                    kwargs={"column": f"max__{vr.column}", "max_value": vr.max},
                    count_column=f"above_max__{vr.column}",
                    aggregates=(
                        (f"max__{vr.column}", f"CAST(max({col}) AS DOUBLE)"),
                        (f"above_max__{vr.column}", f"count(*) FILTER (WHERE {col} > {_num(vr.max)})"),
                    ),
                    violation=f"{col} > {_num(vr.max)}",
                    example_columns=(*keys, vr.column),
                )
            )
    for name in dates_checked(ent):
        day = f"CAST({sql_ident(name)} AS DATE)"
        rules.append(
            Rule(
                id=f"{name}.not_after_batch_end",
                text=f"{name} not after the batch month's last day",
                severity=ranges.DATE_AFTER_BATCH_END_SEVERITY,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": f"days_after_batch_end__{name}", "max_value": 0},
                count_column=f"after_batch_end__{name}",
                aggregates=(
                    (f"days_after_batch_end__{name}", f"max(date_diff('day', {BATCH_END_SQL}, {day}))"),
                    (f"after_batch_end__{name}", f"count(*) FILTER (WHERE {day} > {BATCH_END_SQL})"),
                ),
                violation=f"{day} > {BATCH_END_SQL}",
                example_columns=(*keys, name),
            )
        )
    if not rules:
        return None
    return SuiteSpec(
        name=f"{ent.system}.{ent.name}.value_ranges",
        rules=tuple(rules),
        label_columns=("_batch",),
        description=f"Value ranges of {ent.system}/{ent.name} per loaded batch (quality/ranges.py).",
    )


def quarantine_suite(ent: Entity, warn_share: float, block_share: float | None) -> SuiteSpec:
    """Share of each batch's rows the loader quarantined: WARN above `warn_share`, ERROR (blocking)
    above `block_share` (the configuration's `quality` section; None: never ERROR)."""
    shares = [(WARN, warn_share)] + ([(ERROR, block_share)] if block_share is not None else [])
    rules = []
    for severity, share in shares:
        rules.append(
            Rule(
                id=f"quarantined_share.{severity.lower()}",
                text=f"at most {share:.0%} of a batch's rows quarantined",
                severity=severity,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": "quarantined_share", "min_value": 0, "max_value": share},
                count_column="rows_quarantined",
            )
        )
    return SuiteSpec(
        name=f"{ent.system}.{ent.name}.quarantine_share",
        rules=tuple(rules),
        label_columns=("_batch",),
        description=f"Rows of {ent.system}/{ent.name} quarantined per batch (audit.load_batches).",
    )


def coverage_suite(cov: ranges.Coverage) -> SuiteSpec:
    what = "rows" if cov.measure == "rows" else cov.measure
    return SuiteSpec(
        name=f"{cov.system}.{cov.entity}.{cov.check}",
        rules=(
            Rule(
                id=f"{cov.check}.min_share",
                text=f"at least {cov.min_share:.0%} of {what} reach {cov.refers_to}",
                severity=cov.severity,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": "matched_share", "min_value": cov.min_share, "max_value": 1},
                count_column="unmatched_rows",
            ),
        ),
        label_columns=("_batch",),
        description=f"Share of {cov.system}/{cov.entity} {what} that reach {cov.refers_to}, per batch.",
    )


def fx_band_suite() -> SuiteSpec:
    band = ranges.FX_BAND
    return SuiteSpec(
        name="erp.fx_rates.fx_rate_band",
        rules=(
            Rule(
                id="rate_change.band",
                text=f"a rate moves at most ±{band:.0%} from the previous month's rate of its currency",
                severity=ranges.FX_BAND_SEVERITY,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": "change", "min_value": -band, "max_value": band},
            ),
        ),
        label_columns=("month", "currency"),
        description="Each month's exchange rate against the previous month's rate of the same currency.",
    )


def ingestion_suites(quality: Quality | None = None) -> dict[tuple[str, str], list[SuiteSpec]]:
    """Every ingestion suite by (system, entity) (for docs and tests), with the configuration's
    quality thresholds (default: strata.yml's)."""
    quality = quality or Quality()
    out: dict[tuple[str, str], list[SuiteSpec]] = {}
    for key, ent in entities().items():
        quarantine = quarantine_suite(ent, quality.quarantine_warn_share, quality.quarantine_block_share)
        specs = [s for s in (value_range_suite(ent), quarantine) if s is not None]
        specs += [coverage_suite(c) for c in ranges.COVERAGE if (c.system, c.entity) == key]
        if key == ("erp", "fx_rates"):
            specs.append(fx_band_suite())
        out[key] = specs
    return out


# --- marts ----------------------------------------------------------------------------------------

_STATUS_OK = {
    "expectation": "ExpectColumnValuesToBeInSet",
    "kwargs": {"column": "status", "value_set": ["OK"]},
}


def cost_pool_suite(tolerance: float) -> SuiteSpec:
    severity = ranges.COST_POOL_SEVERITY
    return SuiteSpec(
        name="marts.margin_reconciliation.cost_pools_reconcile",
        rules=(
            Rule(
                id="status.not_null",
                text="every cost-pool row has a status",
                severity=severity,
                expectation="ExpectColumnValuesToNotBeNull",
                kwargs={"column": "status"},
            ),
            Rule(
                id="status.ok",
                text="every cost-pool row is OK (allocation neither creates nor loses money)",
                severity=severity,
                **_STATUS_OK,
            ),
            Rule(
                id="difference.tolerance",
                text=f"|difference| ≤ {tolerance:.2f} LCY on every cost-pool row",
                severity=severity,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": "difference", "min_value": -tolerance, "max_value": tolerance},
            ),
        ),
        label_columns=("month", "line_item"),
        description="Cost pools reconcile to the ledger in every month (methodology §5).",
    )


def ledger_suite() -> SuiteSpec:
    return SuiteSpec(
        name="marts.margin_reconciliation.ledger_differences",
        rules=(
            Rule(
                id="status.ok",
                text="revenue, COGS, rebates, services and freight agree with the ledger",
                severity=ranges.LEDGER_DIFFERENCE_SEVERITY,
                **_STATUS_OK,
            ),
        ),
        label_columns=("month", "line_item"),
        description="Pipeline against ledger for " + ", ".join(ranges.LEDGER_LINE_ITEMS) + ".",
    )


def fx_complete_suite() -> SuiteSpec:
    return SuiteSpec(
        name="marts.fct_customer_profit_monthly.fx_rates_complete",
        rules=(
            Rule(
                id="rate.present",
                text="every currency a month uses has that month's rate",
                severity=ranges.FX_MISSING_SEVERITY,
                expectation="ExpectColumnValuesToNotBeNull",
                kwargs={"column": "rate_to_lcy"},
            ),
        ),
        label_columns=("month", "currency"),
        description="A missing exchange rate for a currency a month uses (methodology §1).",
    )


def mom_suite() -> SuiteSpec:
    f = ranges.MOM_FACTOR
    return SuiteSpec(
        name="marts.fct_customer_profit_monthly.month_over_month",
        rules=(
            Rule(
                id="ratio.factor",
                text=f"a customer group's monthly net revenue and cost-to-serve move by at most ×{f:g} "
                f"(previous month ≥ {ranges.MOM_MIN_BASE_LCY:,.0f} LCY)",
                severity=ranges.MOM_SEVERITY,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": "ratio", "min_value": 1 / f, "max_value": f},
            ),
        ),
        label_columns=("month", "customer_group", "measure"),
        description="Month-over-month jumps of revenue and cost-to-serve per customer group.",
    )


SEGMENT_COUNTS = {
    "duplicate_rows": "one row per month and customer",
    "unassigned_rows": "UNASSIGNED never gets a segment",
    "active_not_segmented": "every active customer (T12M net revenue > 0) has segments",
    "segmented_not_active": "only active customers have segments",
}


def segments_suite() -> SuiteSpec:
    severity = ranges.SEGMENTS_SEVERITY
    rules = [
        Rule(
            id=f"{name}.zero",
            text=text,
            severity=severity,
            expectation="ExpectColumnValuesToBeBetween",
            kwargs={"column": name, "min_value": 0, "max_value": 0},
            count_column=name,
        )
        for name, text in SEGMENT_COUNTS.items()
    ]
    for segmentation, codes in SEGMENT_CODES.items():
        name = f"invalid__{segmentation}"
        rules.append(
            Rule(
                id=f"{segmentation}.one_valid_segment",
                text=f"exactly one {segmentation} per customer, one of {', '.join(codes)}",
                severity=severity,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": name, "min_value": 0, "max_value": 0},
                count_column=name,
            )
        )
    return SuiteSpec(
        name="marts.customer_segments.one_segment_per_customer",
        rules=tuple(rules),
        label_columns=("month",),
        description="Every active customer has exactly one segment per segmentation; UNASSIGNED has none.",
    )


def kpi_suite() -> SuiteSpec:
    rules = []
    for kpi, (low, high) in ranges.KPI_RANGES.items():
        bounds = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
        text = " ≤ ".join(
            p for p in (None if low is None else _num(low), kpi, None if high is None else _num(high)) if p
        )
        rules.append(
            Rule(
                id=f"{kpi}.range",
                text=text,
                severity=ranges.KPI_SEVERITY,
                expectation="ExpectColumnValuesToBeBetween",
                kwargs={"column": kpi, **bounds},
            )
        )
    return SuiteSpec(
        name="marts.segment_kpis.kpis_in_range",
        rules=tuple(rules),
        label_columns=("month", "segmentation", "segment"),
        description="Per-segment KPIs within the values a correct model can produce.",
    )

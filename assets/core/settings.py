"""The one configuration file of business settings: loading, validation, version, dbt vars.

The file is YAML (`assets/core/strata.yml` holds methodology.md's defaults). Validation is strict:
an unknown key, a missing key or a value of the wrong kind stops the run with a message naming the
key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_FILE = Path(__file__).with_name("strata.yml")

Channel = Literal["EDI", "API", "PORTAL", "EMAIL", "PHONE"]
Pool = Literal["ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS"]
Family = Literal["HARDWARE", "PERIPHERALS", "SOFTWARE", "CLOUD", "SERVICES"]
Segmentation = Literal[
    "stratum", "profitability_quadrant", "revenue_tier", "maturity_tier", "maturity_segment", "needs_group"
]
# The segment codes of each segmentation (methodology §7-§10), in the methodology's order; the dbt
# models assign them, and checks, charts and reports take them from here (tests/segments holds the
# models' accepted values to them).
Stratum = Literal["CORE", "SERVICE_DRAIN", "OPPORTUNISTIC", "MARGINAL"]
ProfitabilityQuadrant = Literal[
    "NURTURE_AND_RETAIN", "OPTIMIZE_AND_MOVE_RIGHT", "GROW_AND_MOVE_UP", "FIRE_OR_MOVE_RIGHT"
]
RevenueTierCode = Literal["HIGH", "MEDIUM", "LOW"]
MaturityTier = Literal["TRANSACTIONAL", "DEVELOPING", "ADVANCED", "STRATEGIC"]  # lowest first
MaturitySegment = Literal["TRANSFORM", "MODERNIZE", "EDUCATE", "SUSTAIN"]
NeedsGroup = Literal["STRATEGIC", "TACTICAL", "PERSONAL", "UNKNOWN"]
SEGMENT_CODES: dict[str, tuple[str, ...]] = {
    "stratum": get_args(Stratum),
    "profitability_quadrant": get_args(ProfitabilityQuadrant),
    "revenue_tier": get_args(RevenueTierCode),
    "maturity_tier": get_args(MaturityTier),
    "maturity_segment": get_args(MaturitySegment),
    "needs_group": get_args(NeedsGroup),
}
# Methodology §7's table: the stratum of (top-line high, profitability high).
STRATUM_OF: dict[tuple[bool, bool], str] = {
    (True, True): "CORE",
    (True, False): "SERVICE_DRAIN",
    (False, True): "OPPORTUNISTIC",
    (False, False): "MARGINAL",
}
Kpi = Literal[
    "customers", "net_revenue", "gross_margin", "cost_to_serve", "contribution_margin",
    "contribution_margin_pct", "aov", "retention_rate", "upsell_cross_sell_rate", "migration_up_rate",
    "migration_down_rate", "changed_rate", "cltv", "aov_yoy_change", "cltv_yoy_change",
]
Weight = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Score = Annotated[float, Field(ge=0, le=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _weights_positive(weights: dict) -> dict:
    if weights and sum(weights.values()) <= 0:
        raise ValueError("the weights must not all be zero")
    return weights


class Currency(Strict):
    lcy: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class CostToServe(Strict):
    order_entry_channel_weights: dict[Channel, Weight]
    late_payment_weight: Weight
    receivables_annual_rate: Annotated[Decimal, Field(ge=0)]
    days_per_year: Annotated[int, Field(gt=0)]
    practical_capacity: dict[Pool, Annotated[Decimal, Field(gt=0)]] = {}

    @field_validator("order_entry_channel_weights")
    @classmethod
    def _every_channel(cls, v: dict) -> dict:
        missing = sorted(set(Channel.__args__) - set(v))
        if missing:
            raise ValueError(f"give a weight for every order channel; missing: {', '.join(missing)}")
        return v


class Reconciliation(Strict):
    tolerance_lcy: Annotated[Decimal, Field(ge=0)]


class Axis(Strict):
    weights: dict[str, Weight]
    high_cut: Share
    _weights = field_validator("weights")(classmethod(lambda cls, v: _weights_positive(v)))


class TopLine(Axis):
    weights: dict[Literal["net_revenue", "orders", "product_families"], Weight]


class Profitability(Axis):
    weights: dict[Literal["contribution_margin", "contribution_margin_pct"], Weight]


class Strata(Strict):
    topline: TopLine
    profitability: Profitability


class Quadrant(Strict):
    revenue_percentile_cut: Share


class RevenueTier(Strict):
    high_cumulative_share: Share
    medium_cumulative_share: Share

    @model_validator(mode="after")
    def _ordered(self):
        if self.high_cumulative_share > self.medium_cumulative_share:
            raise ValueError("high_cumulative_share must not exceed medium_cumulative_share")
        return self


class Maturity(Strict):
    survey_lookback_months: Annotated[int, Field(ge=1)]
    dimension_weights: dict[
        Literal["technical_capability", "digital_adoption", "solution_complexity", "it_standardization",
                "purchasing_volume"],
        Weight,
    ]
    digital_channels: list[Channel]
    complex_families: list[Family]
    monitoring_sources: list[Literal["PHONE", "EMAIL", "PORTAL", "MONITORING"]]
    tiers: dict[MaturityTier, Score]
    _weights = field_validator("dimension_weights")(classmethod(lambda cls, v: _weights_positive(v)))

    @field_validator("tiers")
    @classmethod
    def _tiers_ascending(cls, v: dict) -> dict:
        order = SEGMENT_CODES["maturity_tier"]
        missing = [t for t in order if t not in v]
        if missing:
            raise ValueError(f"give a lower bound for every tier; missing: {', '.join(missing)}")
        bounds = [v[t] for t in order]
        if bounds[0] != 0 or bounds != sorted(bounds):
            raise ValueError(f"tier lower bounds must start at 0 and ascend in the order {', '.join(order)}")
        return {t: v[t] for t in order}


class Appetite(Strict):
    weights: dict[Literal["growth_appetite_survey", "attended_activities", "opportunities_created"], Weight]
    _weights = field_validator("weights")(classmethod(lambda cls, v: _weights_positive(v)))


class MaturitySegmentCuts(Strict):
    maturity_cut: Score
    appetite_cut: Score


class Play(Strict):
    review_cadence: str
    review_cadence_months: Annotated[int, Field(ge=1)] | None
    key_initiative: str
    relationship_owner: str


class Segments(Strict):
    first_segment_month_index: Annotated[int, Field(ge=1)]
    window_months: Annotated[int, Field(ge=1)]
    ratio_decimals: Annotated[int, Field(ge=0, le=15)]
    strata: Strata
    quadrant: Quadrant
    revenue_tier: RevenueTier
    maturity: Maturity
    appetite: Appetite
    maturity_segment: MaturitySegmentCuts
    playbook: dict[MaturitySegment, Play]
    review_activity_types: list[
        Literal["CALL", "EMAIL", "MEETING", "QBR", "SITE_VISIT", "TRAINING", "WEBINAR"]
    ]

    @field_validator("playbook")
    @classmethod
    def _every_segment(cls, v: dict) -> dict:
        missing = sorted(set(MaturitySegment.__args__) - set(v))
        if missing:
            raise ValueError(f"give a play for every maturity segment; missing: {', '.join(missing)}")
        return v


class Cltv(Strict):
    retention_cap: Share
    discount_rate: Annotated[float, Field(ge=0)]


class Target(Strict):
    kpi: Kpi
    segmentation: Segmentation
    segments: list[str]
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounded(self):
        if self.low is None and self.high is None:
            raise ValueError("a target needs a low or a high bound")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


class Kpis(Strict):
    cltv: Cltv
    targets: list[Target]


class PredictedValue(Strict):
    """Methodology §13: the prediction horizon and the churn-risk cuts on p_alive."""

    horizon_months: Annotated[int, Field(ge=1, le=120)]
    # churn_risk is HIGH when p_alive < high_below, MEDIUM when < medium_below, else LOW.
    churn_risk_high_below: Share
    churn_risk_medium_below: Share

    @model_validator(mode="after")
    def _ordered(self):
        if self.churn_risk_high_below > self.churn_risk_medium_below:
            raise ValueError("churn_risk_high_below must not exceed churn_risk_medium_below "
                             "(HIGH risk is the lower p_alive)")
        return self


MEMORY_SIZE = r"^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"


class Warehouse(Strict):
    """How the DuckDB warehouse may use the machine (docs/performance.md). Runtime tuning, not a
    business setting: it is no part of the configuration's version nor of the dbt vars, so changing
    it never changes a number or a segment assignment's config_version."""

    # DuckDB threads per connection, and the batches of an entity ingestion loads at once; None: one per core
    threads: Annotated[int, Field(ge=1)] | None = None
    # DuckDB's buffer memory per process (ingestion, dbt): beyond it, large joins and aggregations
    # spill to temp_directory instead of growing; None: DuckDB's default (80 % of the machine's RAM).
    memory_limit: Annotated[str, Field(pattern=MEMORY_SIZE)] | None = "4GB"
    temp_directory: str | None = None  # where DuckDB spills; None: beside the warehouse (<file>.tmp)

    def thread_count(self) -> int:
        """The DuckDB threads of a connection: `threads`, or one per core. Ingestion also loads this
        many batches of an entity at once (assets/ingestion/loader.py `load_batches`)."""
        return self.threads or os.cpu_count() or 1

    def duckdb_config(self) -> dict[str, str]:
        """The `config` for `duckdb.connect` (only what is set)."""
        values = {"threads": self.threads, "memory_limit": self.memory_limit,
                  "temp_directory": self.temp_directory}
        return {k: str(v) for k, v in values.items() if v is not None}


class Report(Strict):
    """What the segment report shows (docs/publishing.md). Presentation only: like `warehouse`, no part
    of the configuration's version nor of the dbt vars."""

    # The most and the least profitable N customers (T12M contribution margin) of each stratum get a
    # customer page; the customer table lists every active customer. None: every active customer.
    customer_pages_per_stratum: Annotated[int, Field(ge=0)] | None = 100
    waterfall_months: Annotated[int, Field(ge=1, le=120)] = 24  # the customer page's profit waterfall


class Quality(Strict):
    """Thresholds of the data-quality checks that a distributor may tune (docs/quality.md). Like
    `warehouse`, no part of the configuration's version: a check's threshold changes no number."""

    # Share of a batch's rows the loader quarantined: above the warn share the run reports the batch
    # and publishes; above the block share it stops before the marts (they would miss that much of
    # the month). None: never block.
    quarantine_warn_share: Share = 0.01
    quarantine_block_share: Share | None = 0.10

    @model_validator(mode="after")
    def _ordered(self):
        block = self.quarantine_block_share
        if block is not None and block < self.quarantine_warn_share:
            raise ValueError("quarantine_block_share must not be below quarantine_warn_share")
        return self


class Partitions(Strict):
    """Dagster's month partitions (docs/operations.md, "Months in Dagster"). Like `warehouse`, no part
    of the configuration's version: a landing month before the first month is refused, never dropped,
    so it changes no number."""

    # The first month partition (YYYY-MM); the last is the open (current) month.
    first_month: Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] = "2020-01"


# Sections that tune how strata runs and checks, not what it computes: left out of the version and
# of the dbt vars.
RUNTIME_SECTIONS = frozenset({"warehouse", "quality", "report", "partitions"})


class Settings(Strict):
    warehouse: Warehouse = Warehouse()
    quality: Quality = Quality()
    report: Report = Report()
    partitions: Partitions = Partitions()
    currency: Currency
    cost_to_serve: CostToServe
    reconciliation: Reconciliation
    segments: Segments
    kpis: Kpis
    predicted_value: PredictedValue

    @property
    def version(self) -> str:
        """A short hash of the validated content: equal settings give equal versions."""
        canonical = json.dumps(self.business(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def business(self) -> dict:
        """Every business setting as JSON-ready data (the runtime sections left out)."""
        return self.model_dump(mode="json", exclude=set(RUNTIME_SECTIONS))

    def dbt_vars(self) -> dict:
        """The settings as dbt vars (`--vars`): the models read every weight, rate and cut from here."""
        return {"strata": self.business(), "config_version": self.version}


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file, the key and the problem."""


def load_settings(path: str | Path | None = None) -> Settings:
    """The validated settings of the configuration file `path` (default: the built-in one).

    Read every time, validated once per content: a run asks for its settings in every step and
    check, and validating the whole file each time cost about a second of a run. The models are
    frozen, so every caller can share the one validated object."""
    path = Path(path) if path else DEFAULT_CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    return _validated(str(path), text)


@lru_cache(maxsize=16)
def _validated(path: str, text: str) -> Settings:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping of settings")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"  {key}: {err['msg']}")
        raise ConfigError(f"configuration file {path} is invalid:\n" + "\n".join(problems)) from None

"""The business ranges and thresholds of the data-quality checks: the one table to edit.

Every number a check compares against lives here, with the reason it is what it is. The suites
(`quality/suites.py`) are built from this table and the landing contract, never written by hand per
entity. Severity is per rule: WARN reports and lets the run finish; ERROR on a blocking check stops
the assets downstream of the checked asset in the same run (the last good published copy stays).

If the configuration file grows a `quality:` section, this module becomes its default and loader;
until then it is the only place these values are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

WARN = "WARN"
ERROR = "ERROR"


# --- ingestion: value ranges -------------------------------------------------------------------


@dataclass(frozen=True)
class ValueRange:
    """Bounds of one numeric contract column (inclusive unless `strict_min`)."""

    system: str
    entity: str
    column: str
    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    severity: str = WARN
    why: str = ""


_NOT_NEGATIVE = "cannot be negative"

# Every decimal and integer column of the contract that is not a key or an identifier has a row
# here (a test keeps it so): a new numeric column forces a decision. Default severity WARN: the
# loader has already refused or quarantined what is certainly wrong; these are implausible values
# the ERP really holds, which finance should look at but which must not hold back every mart.
VALUE_RANGES: tuple[ValueRange, ...] = (
    ValueRange("erp", "customers", "payment_terms_days", min=0, max=365, why="terms are 0 to 365 days"),
    ValueRange("erp", "customers", "credit_limit_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange(
        "erp",
        "sales_lines",
        "quantity",
        min=0,
        why="positive on both document types (a credit memo reverses by its type)",
    ),
    ValueRange("erp", "sales_lines", "unit_price", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "sales_lines", "line_discount_amount", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "sales_lines", "net_amount", min=0, why="quantity × price less a discount"),
    ValueRange("erp", "sales_lines", "cost_amount_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "shipments", "packages", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "shipments", "weight_kg", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "shipments", "freight_cost_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "shipments", "freight_charged_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "rebate_claims", "rebate_amount_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange("erp", "payments", "amount", min=0, why="a payment applied to an invoice is positive"),
    ValueRange(
        "erp",
        "gl_balances",
        "amount_lcy",
        min=0,
        why="the contract gives every category's net activity as a positive number",
    ),
    ValueRange("erp", "fx_rates", "rate_to_lcy", min=0, strict_min=True, why="a rate is positive"),
    ValueRange("crm", "accounts", "employee_count", min=0, why=_NOT_NEGATIVE),
    ValueRange("crm", "opportunities", "amount", min=0, why=_NOT_NEGATIVE),
    ValueRange(
        "crm",
        "activities",
        "duration_minutes",
        min=0,
        max=24 * 60,
        why="no negative durations, and at most a day",
    ),
    ValueRange("crm", "survey_responses", "score", min=1, max=5, why="the survey scale is 1 to 5"),
    ValueRange("psa", "agreements", "monthly_fee", min=0, why=_NOT_NEGATIVE),
    ValueRange(
        "psa",
        "time_entries",
        "hours",
        min=0,
        max=24,
        why="no negative hours, and at most 24 hours per time entry",
    ),
    ValueRange("psa", "time_entries", "hourly_cost_lcy", min=0, why=_NOT_NEGATIVE),
    ValueRange("psa", "time_entries", "hourly_rate", min=0, why=_NOT_NEGATIVE),
)

# Integer columns that identify something rather than count it (no range applies).
IDENTIFIER_COLUMNS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("erp", "sales_lines", "line_no"),
        ("psa", "agreements", "company_id"),
        ("psa", "tickets", "company_id"),
        ("psa", "tickets", "agreement_id"),
        ("psa", "time_entries", "company_id"),
        ("psa", "time_entries", "ticket_id"),
    }
)

# --- ingestion: dates not after the batch month's end ------------------------------------------

# Every date and timestamp column of the contract must not lie after its batch month's last day
# (a snapshot is "as of" that day), except the `batch_by` column (the loader already quarantines
# those) and the columns below, which may legitimately lie ahead.
DATES_MAY_BE_LATER: dict[tuple[str, str, str], str] = {
    ("erp", "payments", "due_date"): "an invoice may be paid before it is due",
    ("crm", "opportunities", "close_date"): "an open deal's expected close date lies ahead",
    ("psa", "agreements", "start_date"): "an agreement may be signed ahead of its start",
    ("psa", "agreements", "end_date"): "an agreement's end lies ahead while it runs",
    ("psa", "tickets", "closed_at"): "a ticket opened late in the month may close after it",
}
DATE_AFTER_BATCH_END_SEVERITY = WARN

# --- ingestion: exchange rates ------------------------------------------------------------------

# A month's rate may move at most this share from the previous month's rate of the same currency.
FX_BAND = 0.25
FX_BAND_SEVERITY = WARN

# --- ingestion: referential coverage (methodology §2) ------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The share of an entity's rows (or of a measure) that reaches what it refers to."""

    system: str
    entity: str
    check: str  # the Dagster check name
    measure: str  # what the share counts: "rows" or a column summed
    refers_to: str  # what must be found, for messages
    min_share: float
    severity: str = WARN


# The landing contract: a reference that points nowhere loads and is flagged (its money goes to UNASSIGNED, so
# totals still reconcile). WARN therefore; the shares say how much the customer view is missing.
COVERAGE: tuple[Coverage, ...] = (
    Coverage(
        "erp",
        "sales_lines",
        "customer_coverage",
        "rows",
        "a customer of int_customers (the newest customer snapshot)",
        min_share=0.99,
    ),
    Coverage(
        "psa",
        "time_entries",
        "customer_coverage",
        "hours",
        "a customer through the PSA company crosswalk",
        min_share=0.95,
    ),
    Coverage(
        "crm",
        "activities",
        "customer_coverage",
        "duration_minutes",
        "a customer through the CRM account crosswalk",
        min_share=0.95,
    ),
    Coverage("erp", "payments", "invoice_coverage", "rows", "a known INVOICE document_no", min_share=0.99),
)

# --- ingestion: quarantine ------------------------------------------------------------------------

# The shares of a batch's rows quarantined that warn and that block are configuration (the `quality`
# section of strata.yml, assets/core/settings.py: Quality), so a distributor can tune them.

# --- marts ----------------------------------------------------------------------------------------

# margin_reconciliation: cost pools must always be OK (allocation neither creates nor loses money).
COST_POOL_SEVERITY = ERROR
# The other line items compare the pipeline with the ledger; a difference is for finance to explain.
LEDGER_LINE_ITEMS = ("REVENUE", "COGS", "REBATE_INCOME", "SERVICES_COST", "FREIGHT_COST", "FREIGHT_RECOVERY")
LEDGER_DIFFERENCE_SEVERITY = WARN

# A missing exchange rate for a currency a month uses: blocking (methodology §1).
FX_MISSING_SEVERITY = ERROR

# customer_segments: one segment per segmentation for every active customer, none for UNASSIGNED.
SEGMENTS_SEVERITY = ERROR
# The valid segment codes are the configuration's (assets.core.settings.SEGMENT_CODES).

# segment_kpis: values a correct model cannot produce. ERROR (blocking): a retention rate of 1.3
# published to finance is a model bug, and the last good copy is better than a wrong one.
KPI_RANGES: dict[str, tuple[float | None, float | None]] = {
    "customers": (0, None),
    "net_revenue": (0, None),  # T12M sums over active customers, each with net revenue > 0
    "aov": (0, None),
    "retention_rate": (0, 1),
    "upsell_cross_sell_rate": (0, 1),
    "migration_up_rate": (0, 1),
    "migration_down_rate": (0, 1),
    "changed_rate": (0, 1),
}
KPI_SEVERITY = ERROR

# fct_customer_profit_monthly: a customer group's revenue or cost-to-serve moving by more than this
# factor (up or down) from one month to the next is reported, where the previous month is at least
# the base (small groups jump for no reason worth a look).
MOM_FACTOR = 3.0
MOM_MIN_BASE_LCY = 10_000.0
MOM_MEASURES = ("net_revenue", "cost_to_serve")
MOM_SEVERITY = WARN

# --- reporting ------------------------------------------------------------------------------------

EXAMPLE_ROWS = 5  # example rows attached to a failed rule
# GX Data Docs under <out>/quality/data_docs/: "failures" renders the validations that did not pass
# (what a person must look at), "all" every validation (about 0.2 s of HTML per check), "off" none.
DATA_DOCS = "failures"

# --- freshness ------------------------------------------------------------------------------------

# An entity without a batch for the newest month present in the landing folder: reported, never
# blocking (the marts are still right for the months they have).
FRESHNESS_SEVERITY = WARN

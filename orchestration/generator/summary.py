"""What a generation wrote: the summary `generate()` returns and `<out>/_generator.json` records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class PlantedDifference:
    """A ledger amount with no transaction behind it: reconciliation must report exactly this."""

    month: str  # YYYY-MM
    line_item: str  # the reconciliation line item, e.g. REVENUE
    account_code: str
    account_name: str
    amount_lcy: Decimal  # what the ledger holds beyond the lines

    @property
    def expected_difference(self) -> Decimal:
        """pipeline_amount − gl_amount on that line item and month."""
        return -self.amount_lcy

    def to_json(self) -> dict:
        return {
            "month": self.month,
            "line_item": self.line_item,
            "account_code": self.account_code,
            "account_name": self.account_name,
            "amount_lcy": str(self.amount_lcy),
            "expected_difference": str(self.expected_difference),
        }


@dataclass(frozen=True)
class UnknownCustomerRows:
    """Sales lines for a customer number that no customer snapshot holds (they belong to UNASSIGNED)."""

    customer_no: str
    month: str
    document_no: str
    lines: int
    net_amount_lcy: Decimal

    def to_json(self) -> dict:
        return {
            "customer_no": self.customer_no,
            "month": self.month,
            "document_no": self.document_no,
            "lines": self.lines,
            "net_amount_lcy": str(self.net_amount_lcy),
        }


@dataclass
class GenerationSummary:
    landing_root: Path
    months: list[str]  # the batches written, oldest first
    customers: int
    seed: int
    fmt: str
    lcy: str
    currencies: list[str]
    rows: dict[str, int] = field(default_factory=dict)  # "<system>/<entity>" -> data rows written
    files: int = 0  # data files written (manifests not counted)
    planted_differences: list[PlantedDifference] = field(default_factory=list)
    unknown_customer_rows: list[UnknownCustomerRows] = field(default_factory=list)
    personas: dict[str, int] = field(default_factory=dict)

    @property
    def first_month(self) -> str:
        return self.months[0]

    @property
    def last_month(self) -> str:
        return self.months[-1]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_json(self) -> dict:
        """The summary as JSON, without the landing root (the file sits in it): equal runs, equal bytes."""
        return {
            "months": self.months,
            "first_month": self.first_month,
            "last_month": self.last_month,
            "customers": self.customers,
            "seed": self.seed,
            "format": self.fmt,
            "lcy": self.lcy,
            "currencies": self.currencies,
            "rows": dict(sorted(self.rows.items())),
            "total_rows": self.total_rows,
            "files": self.files,
            "planted_differences": [p.to_json() for p in self.planted_differences],
            "unknown_customer_rows": [u.to_json() for u in self.unknown_customer_rows],
            "personas": self.personas,
        }

    def write(self, arguments: dict) -> Path:
        path = Path(self.landing_root) / "_generator.json"
        body = {"generator": "strata generate", "arguments": arguments, "summary": self.to_json()}
        path.write_text(json.dumps(body, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return path

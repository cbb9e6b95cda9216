"""Helpers for hand-written landing fixtures: exact bytes in, exact expectations out."""

from __future__ import annotations

import json
from pathlib import Path

from assets.core.contract import entity, sha256_file
from orchestration.generator.landing import csv_text

SL = entity("erp", "sales_lines").column_names
FX = entity("erp", "fx_rates").column_names  # period_end, currency, rate_to_lcy
TICKETS = entity("psa", "tickets").column_names

SALES_DEFAULTS = {
    "document_type": "INVOICE", "document_no": "D1", "line_no": "1", "posting_date": "2026-10-05",
    "order_no": "SO1", "customer_no": "C1", "item_no": "I1", "quantity": "2", "unit_price": "10.50",
    "line_discount_amount": "0", "net_amount": "21.00", "currency": "USD", "cost_amount_lcy": "15.25",
    "order_channel": "EDI", "is_drop_ship": "false", "warehouse_code": "W1", "return_reason": "",
}
TICKET_DEFAULTS = {
    "ticket_id": "1", "company_id": "10", "agreement_id": "", "board": "HELPDESK", "priority": "P3",
    "source": "EMAIL", "created_at": "2026-10-05T10:00:00Z", "closed_at": "", "sla_met": "",
}


def sales(**values) -> list[str]:
    """One sales_lines row as CSV strings, in contract column order; keyword args override."""
    row = {**SALES_DEFAULTS, **values}
    return [row[c] for c in SL]


def ticket(**values) -> list[str]:
    row = {**TICKET_DEFAULTS, **values}
    return [row[c] for c in TICKETS]


def batch_dir(root: Path, system: str, entity_name: str, batch: str) -> Path:
    d = root / system / entity_name / batch
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_file(root: Path, system: str, entity_name: str, batch: str, content: str | bytes,
               name: str = "part-0001.csv") -> Path:
    path = batch_dir(root, system, entity_name, batch) / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def write_csv(root: Path, system: str, entity_name: str, batch: str, header: list[str],
              rows: list[list[str]], name: str = "part-0001.csv") -> Path:
    return write_file(root, system, entity_name, batch, csv_text(header, rows), name)


def write_manifest(bdir: Path, rows: dict[str, int], control_totals: dict | None = None, **extra) -> Path:
    """A manifest for the files named in `rows`, with their true sha256."""
    body = {
        "files": [{"name": n, "rows": r, "sha256": sha256_file(bdir / n)} for n, r in rows.items()],
        "control_totals": control_totals or {}, **extra,
    }
    path = bdir / "_manifest.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def rows(con, sql: str, *args) -> list[tuple]:
    return con.execute(sql, list(args)).fetchall()


def quarantined(con, entity_name: str | None = None) -> list[tuple]:
    """(file, line, column, value, reason) of the quarantine, sorted."""
    where = "WHERE entity = ?" if entity_name else ""
    return rows(con, f'SELECT file, line, "column", value, reason FROM audit.quarantined_rows {where} '
                     'ORDER BY file, line, "column"', *([entity_name] if entity_name else []))


def audit_rows(con) -> list[tuple]:
    """(system, entity, batch, status, rows_read, rows_loaded, rows_quarantined), sorted."""
    return rows(con, "SELECT system, entity, batch, status, rows_read, rows_loaded, rows_quarantined "
                     "FROM audit.load_batches ORDER BY ALL")

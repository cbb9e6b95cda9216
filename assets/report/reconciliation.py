"""The reconciliation section: pipeline amounts against the general ledger (newest month)."""

import html
from decimal import Decimal

import pandas as pd

from assets.core.settings import Settings
from assets.report import charts
from assets.report.data import ReportData
from assets.report.document import Section


def money_cell(value, lcy: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return charts.money_text(value if isinstance(value, Decimal) else Decimal(str(value)), lcy, decimals=2)


RECONCILIATION_COLUMNS = [
    ("line_item", "line item"),
    ("pipeline_amount", "pipeline"),
    ("unassigned_amount", "of it UNASSIGNED"),
    ("unallocated_amount", "unallocated"),
    ("unused_capacity_amount", "unused capacity"),
    ("gl_amount", "GL"),
    ("difference", "difference"),
    ("status", "status"),
]


def reconciliation_rows(records: list[dict]) -> list[list[str]]:
    rows = []
    for record in records:
        rows.append(
            [
                str(record[c]) if c in ("line_item", "status") else money_cell(record[c])
                for c, _ in RECONCILIATION_COLUMNS
            ]
        )
    return rows


def reconciliation_markdown(records: list[dict], lcy: str) -> str:
    if not records:
        return "No reconciliation rows yet."
    head = (
        "| "
        + " | ".join(
            f"{label} ({lcy})" if c not in ("line_item", "status") else label
            for c, label in RECONCILIATION_COLUMNS
        )
        + " |"
    )
    rule = (
        "|"
        + "|".join("---" if c in ("line_item", "status") else "---:" for c, _ in RECONCILIATION_COLUMNS)
        + "|"
    )
    body = ["| " + " | ".join(cells) + " |" for cells in reconciliation_rows(records)]
    return "\n".join([head, rule, *body])


def reconciliation_section(data: ReportData, settings: Settings) -> Section:
    esc = html.escape
    lcy = settings.currency.lcy
    if not data.reconciliation:
        table = "<p>No reconciliation rows yet.</p>"
        title = "Reconciliation to the ledger"
    else:
        head = "".join(
            f"<th>{esc(label)}{'' if c in ('line_item', 'status') else f' ({esc(lcy)})'}</th>"
            for c, label in RECONCILIATION_COLUMNS
        )
        body = []
        for cells in reconciliation_rows(data.reconciliation):
            tds = []
            for (c, _), cell in zip(RECONCILIATION_COLUMNS, cells, strict=True):
                cls = "" if c == "line_item" else (cell if c == "status" else "num")
                tds.append(f'<td class="{esc(cls)}">{esc(cell)}</td>' if cls else f"<td>{esc(cell)}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        table = (
            f'<table id="reconciliation-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )
        title = f"Reconciliation to the ledger — {data.reconciliation_month.isoformat()}"
    caption = (
        "Pipeline amounts against the general ledger (margin_reconciliation, newest month). OK within the "
        f"tolerance of {charts.money_text(settings.reconciliation.tolerance_lcy, lcy, 2)}; cost pools "
        "always reconcile; OTHER is shown, not reconciled."
    )
    return Section("reconciliation", title, caption, body=table)

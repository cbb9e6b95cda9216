"""Reading and checking a generated landing folder with plain csv and Decimal (not the loader)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path

from assets.core.contract import Entity, entities

# The session's generation (conftest.py): small enough to check every row, big enough for every trait.
ARGS = {"customers": 40, "months": 14, "end_month": "2025-12", "seed": 7}

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
INTEGER = re.compile(r"^-?\d+$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# decimal places the generator promises per column (money 2, rates 6, quantities whole)
SCALE = {"rate_to_lcy": 6, "quantity": 0}


def parse(value: str, type_: str):
    """A CSV field as its Python value; raises ValueError when it does not parse as its type."""
    if type_ == "string":
        return value
    if type_ == "integer":
        if not INTEGER.match(value):
            raise ValueError(f"not an integer: {value!r}")
        return int(value)
    if type_ == "decimal":
        if not DECIMAL.match(value):
            raise ValueError(f"not a decimal: {value!r}")
        return Decimal(value)
    if type_ == "date":
        if not DATE.match(value):
            raise ValueError(f"not a date: {value!r}")
        return dt.date.fromisoformat(value)
    if type_ == "timestamp":
        if not TIMESTAMP.match(value):
            raise ValueError(f"not a timestamp: {value!r}")
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    if type_ == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"not a boolean: {value!r}")
        return value == "true"
    raise AssertionError(type_)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_batch(ent: Entity, folder: Path) -> list[str]:
    """Every contract rule for one CSV batch folder; returns the problems found (empty: conforms)."""
    problems: list[str] = []
    where = f"{ent.system}/{ent.name}/{folder.name}"
    if not MONTH.match(folder.name):
        return [f"{where}: batch folder is not a month"]
    year, month = (int(x) for x in folder.name.split("-"))
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    if (manifest["system"], manifest["entity"], manifest["batch"]) != (ent.system, ent.name, folder.name):
        problems.append(f"{where}: manifest names another batch")
    parts = sorted(p.name for p in folder.glob("part-*.csv"))
    if [f["name"] for f in manifest["files"]] != parts:
        problems.append(f"{where}: manifest files {manifest['files']} do not match {parts}")
    decimal_cols = [c.name for c in ent.columns if c.type == "decimal"]
    totals = {c: Decimal(0) for c in decimal_cols}
    keys: set[tuple] = set()
    previous: tuple = ()
    for f in manifest["files"]:
        path = folder / f["name"]
        if sha256(path) != f["sha256"]:
            problems.append(f"{where}/{f['name']}: sha256 differs")
        header, rows = read_csv(path)
        if header != list(ent.column_names):
            problems.append(f"{where}/{f['name']}: header {header}")
            continue
        if len(rows) != f["rows"]:
            problems.append(f"{where}/{f['name']}: {len(rows)} rows, manifest says {f['rows']}")
        for line, raw in enumerate(rows, start=2):
            if len(raw) != len(header):
                problems.append(f"{where}:{line}: {len(raw)} fields")
                continue
            rec = {}
            for c, text in zip(ent.columns, raw, strict=True):
                if text == "":
                    rec[c.name] = None
                    if not c.nullable:
                        problems.append(f"{where}:{line}: {c.name} is empty")
                    continue
                try:
                    rec[c.name] = value = parse(text, c.type)
                except ValueError as exc:
                    problems.append(f"{where}:{line}: {c.name}: {exc}")
                    continue
                if c.enum and text not in c.enum:
                    problems.append(f"{where}:{line}: {c.name}={text!r} not in enum")
                if c.type == "decimal":
                    totals[c.name] += value
                    places = len(text.split(".")[1]) if "." in text else 0
                    if places != SCALE.get(c.name, 2):
                        problems.append(f"{where}:{line}: {c.name}={text!r} has {places} decimals")
            key = tuple(rec.get(k) for k in ent.key)
            if key in keys:
                problems.append(f"{where}:{line}: duplicate key {key}")
            elif keys and key < previous:
                problems.append(f"{where}:{line}: key {key} after {previous} (rows are written in key order)")
            keys.add(key)
            previous = key
            if ent.batch_by and rec.get(ent.batch_by) is not None:
                d = rec[ent.batch_by]
                if (d.year, d.month) != (year, month):
                    problems.append(f"{where}:{line}: {ent.batch_by} {d} outside the batch month")
            problems += [f"{where}:{line}: {p}" for p in row_rules(ent, rec)]
    expected = {k: Decimal(v) for k, v in manifest["control_totals"].items()}
    if set(expected) != set(decimal_cols):
        problems.append(f"{where}: control totals for {sorted(expected)}, decimal columns {decimal_cols}")
    for k, v in expected.items():
        if totals.get(k) != v:
            problems.append(f"{where}: control total {k} = {totals.get(k)}, manifest {v}")
    return problems


def row_rules(ent: Entity, r: dict) -> list[str]:
    """The contract's per-row business rules beyond types (extracts.yml notes)."""
    out = []
    name = (ent.system, ent.name)
    if name == ("erp", "sales_lines"):
        if r["document_type"] == "CREDIT_MEMO" and r["return_reason"] is None:
            out.append("credit memo without return_reason")
        if r["document_type"] == "INVOICE" and r["return_reason"] is not None:
            out.append("invoice with return_reason")
        if r["net_amount"] != r["quantity"] * r["unit_price"] - r["line_discount_amount"]:
            out.append("net_amount != quantity * unit_price - line_discount_amount")
        if (
            not r["quantity"] > 0
            or r["unit_price"] < 0
            or r["line_discount_amount"] < 0
            or r["net_amount"] < 0
        ):
            out.append("negative or zero quantity or amounts")
        if r["is_drop_ship"] != (r["warehouse_code"] is None):
            out.append("warehouse_code must be empty exactly when drop-shipped")
        if r["return_reason"] == "PRICE_ADJUSTMENT" and r["cost_amount_lcy"] != 0:
            out.append("price adjustment with a cost")
    elif name == ("crm", "activities"):
        attended_types = {"MEETING", "QBR", "SITE_VISIT", "TRAINING", "WEBINAR"}
        if (r["activity_type"] in attended_types) != (r["customer_attended"] is not None):
            out.append("customer_attended set for the wrong activity type")
    elif name == ("psa", "time_entries"):
        if not Decimal(0) < r["hours"] <= 24:
            out.append(f"hours {r['hours']}")
        if r["billable"] != (r["hourly_rate"] is not None):
            out.append("hourly_rate must be set exactly on billable entries")
    elif name == ("crm", "survey_responses"):
        if not 1 <= r["score"] <= 5:
            out.append(f"score {r['score']}")
    elif name == ("erp", "gl_balances"):
        if (r["account_category"] == "COST_POOL") != (r["cost_pool"] is not None):
            out.append("cost_pool must be set exactly on COST_POOL accounts")
    elif name == ("psa", "tickets"):
        if (r["closed_at"] is None) != (r["sla_met"] is None):
            out.append("sla_met must be set exactly on closed tickets")
        if r["closed_at"] is not None and r["closed_at"] < r["created_at"]:
            out.append("closed before created")
    return out


def load(root: Path) -> dict[tuple[str, str], list[dict]]:
    """Every row of a CSV landing folder, typed, with its batch in `_batch`."""
    out: dict[tuple[str, str], list[dict]] = {}
    for (system, name), ent in entities().items():
        rows = []
        for folder in sorted((root / system / name).iterdir()):
            for path in sorted(folder.glob("part-*.csv")):
                header, raw_rows = read_csv(path)
                types = [ent.column(h).type for h in header]
                for raw in raw_rows:
                    rec = {
                        h: (None if v == "" else parse(v, t))
                        for h, v, t in zip(header, raw, types, strict=True)
                    }
                    rec["_batch"] = folder.name
                    rows.append(rec)
        out[(system, name)] = rows
    return out

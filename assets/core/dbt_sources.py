"""The dbt sources of the raw layer, written from the landing contract.

`dbt_project/models/staging/<system>/_<system>__sources.yml` declares every raw table and column dbt
reads. Which tables and columns exist, and each column's type, allowed values, nullability and
note, are the landing contract's (`assets/core/extracts.yml`, read through `contract`); the
bookkeeping columns are the raw layer's (`contract.RAW_META_COLUMNS`). What the contract does not
hold is kept from the committed file: the source's header (description, schema, freshness), each
table's description, and any other key on a table or column (tests, meta).

`strata sources` rewrites the files; `strata sources --check` (and tests/test_dbt_sources.py) fails
when a committed file differs from what the contract gives, so the YAML never drifts from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from assets.core.contract import RAW_META_DESCRIPTIONS, SYSTEMS, Column, Entity, entities

STAGING_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
REGENERATE = "uv run strata sources"

# The header of a system the committed files do not know yet (freshness: the systems drop extracts
# monthly); edit its description in the written file.
_NEW_HEADER = """version: 2

sources:
  - name: {system}
    description: "{system} extracts."
    schema: raw
    config:
      loaded_at_field: _loaded_at
      freshness:  # the systems drop extracts monthly
        warn_after: {{count: 35, period: day}}
        error_after: {{count: 70, period: day}}
    tables:
"""
_TABLES_LINE = "    tables:\n"
_GENERATED_KEYS = {"name", "identifier", "description", "columns"}


def sources_path(system: str) -> Path:
    return STAGING_DIR / system / f"_{system}__sources.yml"


def column_description(col: Column) -> str:
    """`type[, one of A, B][, nullable][. Note]`: the contract's word on one column."""
    text = col.type
    if col.enum:
        text += ", one of " + ", ".join(col.enum)
    if col.nullable:
        text += ", nullable"
    if col.note:
        text += ". " + col.note[0].upper() + col.note[1:]
    return text


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _extra_keys(entry: dict, indent: int) -> str:
    """The keys of a committed table or column entry that the contract does not give, as YAML."""
    kept = {k: v for k, v in entry.items() if k not in _GENERATED_KEYS}
    if not kept:
        return ""
    dumped = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=1000)
    return "".join(" " * indent + line + "\n" for line in dumped.splitlines())


def _table(ent: Entity, committed: dict) -> str:
    description = (
        committed.get("description") or f"{ent.system}/{ent.name} ({ent.kind}). Key: {', '.join(ent.key)}."
    )
    out = (
        f"      - name: {ent.name}\n"
        f"        identifier: {ent.table}\n"
        f"        description: {_quoted(description)}\n" + _extra_keys(committed, 8) + "        columns:\n"
    )
    committed_columns = {c["name"]: c for c in committed.get("columns") or []}
    described = [(c.name, column_description(c)) for c in ent.columns] + list(RAW_META_DESCRIPTIONS.items())
    for name, text in described:
        out += f"          - name: {name}\n            description: {_quoted(text)}\n"
        out += _extra_keys(committed_columns.get(name, {}), 12)
    return out


def render_sources(system: str, committed_text: str | None) -> str:
    """The sources file of `system`: the committed header and table extras, the contract's columns."""
    if committed_text and _TABLES_LINE in committed_text:
        header = committed_text[: committed_text.index(_TABLES_LINE) + len(_TABLES_LINE)]
        parsed = yaml.safe_load(committed_text) or {}
        source = next((s for s in parsed.get("sources") or [] if s.get("name") == system), {})
        committed_tables = {t["name"]: t for t in source.get("tables") or []}
    else:
        header, committed_tables = _NEW_HEADER.format(system=system), {}
    tables = [
        _table(ent, committed_tables.get(ent.name, {}))
        for (sys_, _), ent in entities().items()
        if sys_ == system
    ]
    return header + "".join(tables)


def _committed(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def stale_sources() -> list[Path]:
    """The sources files whose committed text differs from what the contract gives."""
    return [p for s in SYSTEMS if _committed(p := sources_path(s)) != render_sources(s, _committed(p))]


def write_sources() -> list[Path]:
    """Rewrite every stale sources file from the contract; returns the files written."""
    written = []
    for system in SYSTEMS:
        path = sources_path(system)
        text = render_sources(system, _committed(path))
        if text != _committed(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written

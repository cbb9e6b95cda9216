"""The descriptions of the published tables and columns, read from the dbt manifest (one place).

The marts' descriptions are written in their dbt YAML (`dbt_project/models/marts/*.yml`,
`models/segments/*.yml`), the audit tables' in the dbt source `audit`
(`dbt_project/models/audit/_audit__sources.yml`). dbt puts them all in its manifest, which the run
builds before anything else; publishing copies them into the published DuckDB file and PostgreSQL
(`COMMENT ON`), and the dbt docs site shows the same text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TableDescription:
    description: str
    columns: dict[str, str] = field(default_factory=dict)


def table_descriptions(manifest: Mapping[str, Any]) -> dict[tuple[str, str], TableDescription]:
    """(schema, table) → its description and its columns' (non-empty ones only).

    Keyed as the warehouse names the relations: `("marts", "segment_kpis")`,
    `("audit", "load_batches")`.
    """
    found: dict[tuple[str, str], TableDescription] = {}
    entries = [
        node for node in manifest.get("nodes", {}).values() if node.get("resource_type") == "model"
    ] + list(manifest.get("sources", {}).values())
    for node in entries:
        # The relation's name in the warehouse: a model's alias, a source table's identifier.
        schema, name = node.get("schema"), node.get("alias") or node.get("identifier") or node.get("name")
        if not schema or not name:
            continue
        columns = {
            column: text
            for column, props in (node.get("columns") or {}).items()
            if (text := " ".join((props.get("description") or "").split()))
        }
        found[(schema, name)] = TableDescription(
            description=" ".join((node.get("description") or "").split()), columns=columns
        )
    return found


def dbt_manifest_path() -> Path:
    """Where `strata prepare` (and every run, before it starts) writes the dbt manifest."""
    from assets.core.dbt import dbt_project  # the dbt project object: only when publishing

    return Path(dbt_project().manifest_path)


def load_table_descriptions(manifest_path: Path | None = None) -> dict[tuple[str, str], TableDescription]:
    """The descriptions from the dbt manifest; empty (and the caller warns) when it is missing."""
    path = manifest_path or dbt_manifest_path()
    if not path.is_file():
        return {}
    return table_descriptions(json.loads(path.read_text(encoding="utf-8")))

"""What a scenario recomputes, and how dbt is told: small pure functions (docs/scenarios.md).

A scenario is a configuration file compared with production's. Every dbt model declares the
settings it reads in its YAML (`config.meta.strata_settings`: dotted paths into the configuration,
`config_version` for the version stamp); tests/scenarios/test_scenario_plan.py checks each
declaration against the SQL and macros the model really uses. A scenario rebuilds the models
whose declared settings it changes and everything downstream of them (dbt's `model+`), into
schemas of its own (`scenario_<name>_<layer>`); every other ref resolves to the production relation
through dbt's deferral (`--defer --favor-state --state <production manifest>`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# A scenario name reaches schema names, folder names and PostgreSQL rows: nothing but lower-case
# letters, digits and underscores, starting with a letter, short enough that
# `scenario_<name>_intermediate` stays well inside PostgreSQL's and DuckDB's identifier limits.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SCHEMA_PREFIX = "scenario_{name}_"
# The schemas of dbt_project.yml (staging, intermediate, marts) and the target's default (main).
DBT_LAYERS = ("staging", "intermediate", "marts", "main")
META_KEY = "strata_settings"
CONFIG_VERSION = "config_version"  # the configuration's version: it changes with any setting


class ScenarioError(ValueError):
    """The scenario cannot run as asked; the message says what to change."""


def check_name(name: str) -> str:
    """The scenario name, refused unless it matches NAME_PATTERN (before it reaches SQL or a path)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ScenarioError(
            f"scenario name {name!r} is not allowed: use 1 to 40 lower-case letters, digits and "
            "underscores, starting with a letter (for example phone_3x)"
        )
    return name


def schema_prefix(name: str) -> str:
    return SCHEMA_PREFIX.format(name=check_name(name))


def scenario_schemas(name: str) -> list[str]:
    """Every warehouse schema a scenario's dbt build can write."""
    return [schema_prefix(name) + layer for layer in DBT_LAYERS]


def changed_settings(production: Mapping[str, Any], scenario: Mapping[str, Any], path: str = "") -> list[str]:
    """Dotted paths of the business settings that differ (a leaf, or a list whose length changed).

    Both sides are `Settings.business()` dicts; list items are addressed by index
    (`kpis.targets.2.low`).
    """
    if isinstance(production, Mapping) and isinstance(scenario, Mapping):
        found = []
        for key in sorted(set(production) | set(scenario), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in production or key not in scenario:
                found.append(sub)
            else:
                found += changed_settings(production[key], scenario[key], sub)
        return found
    if isinstance(production, list) and isinstance(scenario, list) and len(production) == len(scenario):
        found = []
        for i, (a, b) in enumerate(zip(production, scenario, strict=True)):
            found += changed_settings(a, b, f"{path}.{i}" if path else str(i))
        return found
    return [] if _same(production, scenario) else [path]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _overlaps(declared: str, changed: str) -> bool:
    """One path lies inside the other (`segments.strata` and `segments.strata.topline.weights`)."""
    return declared == changed or changed.startswith(declared + ".") or declared.startswith(changed + ".")


def declared_settings(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """{model name: the settings it declares} for every model of a dbt manifest that declares any."""
    found = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        paths = (node.get("config", {}).get("meta") or {}).get(META_KEY) or []
        if paths:
            found[node["name"]] = sorted(paths)
    return found


def models_reading(declared: Mapping[str, Iterable[str]], changed: Iterable[str]) -> list[str]:
    """The models that read a changed setting (the version stamp counts as changed with any)."""
    changed = list(changed)
    if changed:
        changed.append(CONFIG_VERSION)
    return sorted(
        model for model, paths in declared.items() if any(_overlaps(p, c) for p in paths for c in changed)
    )


@dataclass(frozen=True)
class ScenarioPlan:
    name: str
    changed: list[str]  # the settings that differ from production's
    roots: list[str]  # the models that read them; dbt rebuilds these and their descendants

    @property
    def prefix(self) -> str:
        return schema_prefix(self.name)

    @property
    def rebuilds(self) -> bool:
        return bool(self.roots)


def plan_scenario(
    name: str,
    production: Mapping[str, Any],
    scenario: Mapping[str, Any],
    manifest: Mapping[str, Any],
    rebuild_all: bool = False,
) -> ScenarioPlan:
    """What the scenario `name` rebuilds. `rebuild_all`: every model that reads any setting (a check
    of the scenario machinery: with production's own configuration nothing may change)."""
    check_name(name)
    declared = declared_settings(manifest)
    changed = changed_settings(production, scenario)
    roots = sorted(declared) if rebuild_all else models_reading(declared, changed)
    return ScenarioPlan(name=name, changed=changed, roots=roots)


def scenario_vars(plan: ScenarioPlan, dbt_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The dbt vars of the scenario's build: its configuration, version and schema prefix."""
    return {**dbt_vars, "strata_schema_prefix": plan.prefix}


def build_args(plan: ScenarioPlan, dbt_vars: Mapping[str, Any], state_dir: str, target_dir: str) -> list[str]:
    """The scenario's `dbt build`: the roots and their descendants, every other ref from production.

    `--favor-state`: an unselected model always resolves to production's relation, even where an
    older run of this scenario left a table of the same name in its own schemas.
    """
    selection = [f"{model}+" for model in plan.roots]
    return [
        "build",
        "--select",
        *selection,
        "--exclude-resource-type",
        "unit_test",
        "--defer",
        "--favor-state",
        "--state",
        state_dir,
        "--vars",
        _json(scenario_vars(plan, dbt_vars)),
        "--target-path",
        target_dir,
    ]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

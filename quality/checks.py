"""Every data-quality asset check of strata, for `Definitions(asset_checks=...)`.

    from quality.checks import all_checks
    dg.Definitions(assets=assets, asset_checks=all_checks(assets), ...)

Only checks whose asset is among `assets` are returned, so the list follows the graph: a mart the
dbt project does not define yet simply has no check, and gains it when the model lands. A mart check
finds its dbt model whether the graph keys it `[model]` or `["marts", model]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import dagster as dg

from quality.base import CheckDef, build, build_group
from quality.freshness import freshness_check_defs
from quality.ingestion_checks import ingestion_check_defs
from quality.mart_checks import mart_check_defs


def check_defs() -> list[CheckDef]:
    """Every check strata knows, whether or not its asset exists in a given graph."""
    return [*ingestion_check_defs(), *freshness_check_defs(), *mart_check_defs()]


def asset_keys(assets: Iterable) -> set[dg.AssetKey]:
    keys: set[dg.AssetKey] = set()
    for a in assets:
        if isinstance(a, dg.AssetsDefinition):
            keys |= set(a.keys)
        elif isinstance(a, dg.AssetSpec | dg.SourceAsset):
            keys.add(a.key)
        elif isinstance(a, dg.AssetKey):
            keys.add(a)
        else:
            keys.add(dg.AssetKey.from_coercible(a))
    return keys


def resolve(check: CheckDef, known: set[dg.AssetKey]) -> CheckDef | None:
    """The check on the asset as the graph keys it, or None when the graph lacks the asset.

    A dbt model's key depends on the translator (`[model]` or `[schema, model]`, e.g.
    `["marts", "margin_reconciliation"]`); a mart check follows whichever the graph uses.
    """
    if check.asset_key in known:
        return check
    if not check.model:
        return None
    name = check.asset_key.path[-1]
    candidates = sorted(
        (k for k in known if k.path[-1] == name and k.path[:-1] in ([], ["marts"])), key=lambda k: len(k.path)
    )
    return replace(check, asset_key=candidates[-1]) if candidates else None


def all_checks(assets: Iterable) -> list[dg.AssetChecksDefinition]:
    """The asset checks for the assets given (AssetsDefinitions, specs or keys)."""
    known = asset_keys(assets)
    resolved = [c for c in (resolve(c, known) for c in check_defs()) if c is not None]
    groups: dict[str, list[CheckDef]] = {}
    for c in resolved:
        if c.group:
            groups.setdefault(c.group, []).append(c)
    singles = [build(c, known) for c in resolved if not c.group]
    return singles + [build_group(name, checks, known) for name, checks in groups.items()]

"""Every data-quality asset check of strata, for `Definitions(asset_checks=...)`.

    from quality.checks import all_checks
    dg.Definitions(assets=assets, asset_checks=all_checks(assets), ...)

Only checks whose asset is among `assets` are returned, so the list follows the graph: a mart the
dbt project does not define yet simply has no check, and gains it when the model lands.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from quality.base import CheckDef, build
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


def all_checks(assets: Iterable) -> list[dg.AssetChecksDefinition]:
    """The asset checks for the assets given (AssetsDefinitions, specs or keys)."""
    known = asset_keys(assets)
    return [build(c, known) for c in check_defs() if c.asset_key in known]

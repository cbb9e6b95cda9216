"""Catalog conventions: every asset in the UI has a group, a description, an owner and tags.

The asset modules set their own groups and descriptions; `with_catalog_defaults` fills in what an
asset leaves unset, never overriding it: the owner `team:data-engineering`, and the tags `layer`
(raw for the ingestion groups, published for publishing) and `system` (erp, crm, psa) for the
ingestion assets. Filter on them in the UI's asset catalog (e.g. `tag:layer=raw`).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

DEFAULT_OWNERS = ["team:data-engineering"]
INGESTION_GROUP_PREFIX = "ingestion_"


def _default_tags(spec: dg.AssetSpec) -> dict[str, str]:
    group = spec.group_name or ""
    if group.startswith(INGESTION_GROUP_PREFIX):
        return {"layer": "raw", "system": group.removeprefix(INGESTION_GROUP_PREFIX)}
    if group == "publishing":
        return {"layer": "published"}
    return {}


def _fill(spec: dg.AssetSpec) -> dg.AssetSpec:
    tags = {**_default_tags(spec), **spec.tags}
    owners = list(spec.owners) or DEFAULT_OWNERS
    if tags == dict(spec.tags) and owners == list(spec.owners):
        return spec
    return spec.replace_attributes(owners=owners, tags=tags)


def with_catalog_defaults(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    return [a.map_asset_specs(_fill) for a in assets]

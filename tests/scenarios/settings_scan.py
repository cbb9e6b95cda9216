"""Which configuration settings a dbt model really reads, found in its SQL and the macros it calls.

The scenario planner trusts each model's declaration (`config.meta.strata_settings`); this scan is
the independent check of those declarations (test_scenario_plan.py). It reads the dbt manifest:
a model's raw SQL and, transitively, every macro it calls (`depends_on.macros`), and collects the
literal first arguments of the settings macros of macros/strata_settings.sql and
macros/segments/segments_helpers.sql.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The macros that look a setting up by a path given as their first argument, and the prefix they
# put before it. Their own bodies read var('strata') generically and are not scanned.
LOOKUPS = {
    "strata_setting": "",
    "strata_decimal": "",
    "strata_string": "",
    "segments_strata_setting": "",
    "segments_setting": "segments.",
}
LITERAL_CALL = re.compile(r"\b(" + "|".join(LOOKUPS) + r")\(\s*'([^']+)'")
ANY_CALL = re.compile(r"\b(" + "|".join(LOOKUPS) + r")\(\s*([^)\s]?)")
CONFIG_VERSION = re.compile(r"\bvar\(\s*['\"]config_version['\"]")
DIRECT_VAR = re.compile(r"\bvar\(\s*['\"]strata['\"]")


class UnresolvableSetting(AssertionError):
    """A settings look-up whose path is not a literal: the scan cannot know what it reads."""


def _paths_in(code: str, where: str) -> set[str]:
    found = {LOOKUPS[macro] + path for macro, path in LITERAL_CALL.findall(code)}
    for macro, first in ANY_CALL.findall(code):
        if first != "'":
            raise UnresolvableSetting(f"{where}: {macro}() is called with a non-literal path")
    if CONFIG_VERSION.search(code):
        found.add("config_version")
    if DIRECT_VAR.search(code):
        raise UnresolvableSetting(f"{where}: reads var('strata') directly; use the settings macros")
    return found


def settings_read(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """{model name: the settings its SQL and macros read} for every model that reads any."""
    macros = manifest["macros"]
    result = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        found = _paths_in(node["raw_code"], node["original_file_path"])
        seen: set[str] = set()
        todo = list(node["depends_on"]["macros"])
        while todo:
            uid = todo.pop()
            if uid in seen or uid not in macros:
                continue
            seen.add(uid)
            macro = macros[uid]
            if macro["name"] in LOOKUPS or macro["package_name"] != manifest["metadata"].get(
                "project_name", "strata"
            ):
                continue
            found |= _paths_in(macro["macro_sql"], macro["original_file_path"])
            todo += macro["depends_on"]["macros"]
        if found:
            result[node["name"]] = sorted(found)
    return result

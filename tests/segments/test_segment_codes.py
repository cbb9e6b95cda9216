"""The segment codes have one home, the configuration module (`assets.core.settings.SEGMENT_CODES`):
the dbt models that assign them and the models' accepted-values tests are held to it here, so a code
renamed in one place and not the other fails the suite instead of a check silently keeping the old one.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import yaml

from assets.core.settings import SEGMENT_CODES, Segmentation, load_settings

SEGMENTS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "segments"

# The model that assigns each segmentation's codes (methodology §7-§10). Maturity tiers are not
# written in SQL at all: int_segment_maturity takes their names and bounds from the configuration.
ASSIGNED_IN = {
    "stratum": "int_segment_strata",
    "profitability_quadrant": "int_segment_strata",
    "revenue_tier": "int_segment_strata",
    "maturity_segment": "int_segment_maturity",
    "needs_group": "int_segment_needs",
}


def _sql(model: str) -> str:
    return (SEGMENTS_DIR / "intermediate" / f"{model}.sql").read_text(encoding="utf-8")


def _literals(sql: str) -> set[str]:
    return set(re.findall(r"'([A-Z][A-Z_]+)'", sql))


def test_each_assigning_model_writes_exactly_the_configured_codes():
    for segmentation, model in ASSIGNED_IN.items():
        codes = set(SEGMENT_CODES[segmentation])
        missing = codes - _literals(_sql(model))
        assert not missing, f"{model}.sql does not assign {segmentation} codes {sorted(missing)}"
    # every literal int_segment_strata assigns is a code of one of its three segmentations
    strata_codes = {c for s, m in ASSIGNED_IN.items() if m == "int_segment_strata" for c in SEGMENT_CODES[s]}
    assert _literals(_sql("int_segment_strata")) <= strata_codes


def test_maturity_tiers_come_from_the_configuration_only():
    tiers = set(SEGMENT_CODES["maturity_tier"])
    assert tuple(load_settings().segments.maturity.tiers) == SEGMENT_CODES["maturity_tier"]
    assert not (_literals(_sql("int_segment_maturity")) & tiers)
    # elsewhere only the tier names no other segmentation uses (STRATEGIC is a needs group too)
    others = {c for s, codes in SEGMENT_CODES.items() if s != "maturity_tier" for c in codes}
    for path in SEGMENTS_DIR.rglob("*.sql"):
        hard_coded = _literals(path.read_text(encoding="utf-8")) & (tiers - others)
        assert not hard_coded, f"{path.name} hard-codes maturity tiers {sorted(hard_coded)}"


def test_accepted_values_of_every_segment_column_are_the_configured_codes():
    checked, wrong = 0, []
    for path in sorted(SEGMENTS_DIR.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            for column in model.get("columns") or []:
                if column["name"] not in SEGMENT_CODES:
                    continue
                for test in column.get("data_tests") or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        checked += 1
                        values = tuple(test["accepted_values"]["arguments"]["values"])
                        if values != SEGMENT_CODES[column["name"]]:
                            wrong.append(f"{model['name']}.{column['name']}: {values}")
    assert checked >= len(SEGMENT_CODES)  # customer_segments tests every segmentation
    assert not wrong, "accepted_values that are not settings.SEGMENT_CODES:\n" + "\n".join(wrong)


def test_the_dbt_segmentations_and_revenue_tier_order_are_the_configured_ones():
    helpers = (SEGMENTS_DIR.parents[1] / "macros" / "segments" / "segments_helpers.sql").read_text(encoding="utf-8")
    listed = re.search(r"macro segments_segmentations\(\).*?return\(\[(.*?)\]\)", helpers, re.S).group(1)
    assert tuple(re.findall(r"'(\w+)'", listed)) == typing.get_args(Segmentation)
    ranks = re.search(r"segmentation == 'revenue_tier'.*?case \{\{ segment \}\}(.*?)end", helpers, re.S).group(1)
    lowest_first = tuple(re.findall(r"when '(\w+)' then", ranks))
    assert lowest_first == tuple(reversed(SEGMENT_CODES["revenue_tier"]))  # the codes are listed best first

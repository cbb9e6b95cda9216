"""The dbt project's copies of the landing contract: the sources files are generated from it
(assets/core/dbt_sources.py) and the staging models' YAML is tested against it."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from assets.core import contract, dbt_sources
from orchestration.cli import cli


def test_committed_sources_are_what_the_contract_gives():
    stale = dbt_sources.stale_sources()
    assert not stale, (
        f"{[str(p) for p in stale]} differ from the landing contract: run `{dbt_sources.REGENERATE}`"
    )


HEADER = """version: 2

sources:
  - name: psa
    description: "PSA extracts."
    schema: raw
    tables:
"""


def test_a_regenerated_file_keeps_what_the_contract_does_not_hold():
    committed = (
        HEADER
        + """      - name: agreements
        identifier: psa__agreements
        description: "Hand-written description."
        loaded_at_field: _loaded_at
        columns:
          - name: company_id
            description: "a stale description"
            data_tests:
              - not_null
          - name: dropped_from_the_contract
            description: "string"
"""
    )
    text = dbt_sources.render_sources("psa", committed)
    assert text.startswith(HEADER)
    source = yaml.safe_load(text)["sources"][0]
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == [name for (system, name) in contract.entities() if system == "psa"]
    agreements = tables["agreements"]
    assert agreements["description"] == "Hand-written description."
    assert agreements["loaded_at_field"] == "_loaded_at"
    columns = {c["name"]: c for c in agreements["columns"]}
    ent = contract.entity("psa", "agreements")
    assert list(columns) == [*ent.column_names, *contract.RAW_META_COLUMNS]
    assert columns["company_id"] == {
        "name": "company_id",
        "description": "integer",
        "data_tests": ["not_null"],
    }
    # a table the committed file lacks gets a description from the contract's kind and key
    assert tables["tickets"]["description"] == "psa/tickets (transactional). Key: ticket_id."
    assert dbt_sources.render_sources("psa", text) == text  # regenerating changes nothing


def test_column_description_says_type_values_nullability_and_note():
    col = contract.Column(
        "return_reason", "string", nullable=True, enum=("A", "B"), note="required on credits"
    )
    assert dbt_sources.column_description(col) == "string, one of A, B, nullable. Required on credits"
    assert dbt_sources.column_description(contract.Column("hours", "decimal")) == "decimal"


def test_strata_sources_check_fails_until_regenerated(tmp_path, monkeypatch):
    monkeypatch.setattr(dbt_sources, "STAGING_DIR", tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["sources", "--check"])
    assert result.exit_code == 1
    assert "run `uv run strata sources` to regenerate" in result.output
    assert runner.invoke(cli, ["sources"]).exit_code == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yml")) == [
        f"{s}/_{s}__sources.yml" for s in sorted(contract.SYSTEMS)
    ]
    assert runner.invoke(cli, ["sources", "--check"]).exit_code == 0


# --- the staging models' YAML against the contract ------------------------------------------------


def _staging_model(ent: contract.Entity) -> dict:
    path = dbt_sources.STAGING_DIR / ent.system / f"stg_{ent.table}.yml"
    (model,) = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return model


def _tests(entry: dict) -> list:
    return entry.get("data_tests") or []


def _staged_entities() -> list[contract.Entity]:
    return [
        e
        for e in contract.entities().values()
        if (dbt_sources.STAGING_DIR / e.system / f"stg_{e.table}.yml").exists()
    ]


def test_every_entity_has_a_staging_model():
    assert len(_staged_entities()) == len(contract.entities())


def test_staging_columns_are_described_as_the_contract_says():
    wrong = []
    for ent in _staged_entities():
        documented = {c["name"]: c.get("description") for c in _staging_model(ent)["columns"]}
        for col in ent.columns:
            if col.name in documented and documented[col.name] != dbt_sources.column_description(col):
                wrong.append(f"stg_{ent.table}.{col.name}: {documented[col.name]!r}")
        for name, text in contract.RAW_META_DESCRIPTIONS.items():
            if name in documented and documented[name] != text:
                wrong.append(f"stg_{ent.table}.{name}: {documented[name]!r}")
        unknown = set(documented) - set(ent.column_names) - set(contract.RAW_META_COLUMNS)
        wrong += [f"stg_{ent.table}.{name}: not a contract column" for name in sorted(unknown)]
    assert not wrong, "staging YAML differs from the landing contract:\n" + "\n".join(wrong)


def test_staging_accepted_values_are_the_contract_enums():
    wrong = []
    for ent in _staged_entities():
        for column in _staging_model(ent)["columns"]:
            for test in _tests(column):
                if isinstance(test, dict) and "accepted_values" in test:
                    values = tuple(test["accepted_values"]["arguments"]["values"])
                    if values != ent.column(column["name"]).enum:
                        wrong.append(f"stg_{ent.table}.{column['name']}: {values}")
    assert not wrong, "accepted_values that are not the contract's enum:\n" + "\n".join(wrong)


def test_staging_models_are_unique_on_the_contract_key():
    wrong = []
    for ent in _staged_entities():
        model = _staging_model(ent)
        if len(ent.key) == 1:
            (column,) = [c for c in model["columns"] if c["name"] == ent.key[0]]
            ok = "unique" in _tests(column)
        else:
            combos = [
                tuple(t["strata_unique_combination"]["arguments"]["columns"])
                for t in _tests(model)
                if isinstance(t, dict) and "strata_unique_combination" in t
            ]
            ok = ent.key in combos
        if not ok:
            wrong.append(f"stg_{ent.table}: no uniqueness test on {', '.join(ent.key)}")
    assert not wrong, "\n".join(wrong)

"""Configuration values never reach SQL as SQL text.

Every number of the configuration reaches the dbt models through `strata_decimal_literal` (a
validated decimal, cast to DECIMAL) and every text through `dbt.string_literal`, which this project
overrides for DuckDB to double single quotes (dbt_project/macros/string_literal.sql): dbt's default
put the value between quotes as it was, so a playbook text with an apostrophe broke the build and
a crafted one could run its own SQL. Here a configuration with hostile texts is compiled (the
`compiled` fixture), and the models' own SQL is executed on the clean run's warehouse: the texts come
back as data, byte for byte.
"""

from __future__ import annotations

import duckdb
import pytest

from assets.core.settings import ConfigError, load_settings
from tests.reliability.conftest import HOSTILE_SEGMENT, HOSTILE_TEXT


def run_model(compiled, name: str, select: str) -> list[tuple]:
    con = duckdb.connect(str(compiled.warehouse), read_only=True)
    try:
        return con.execute(f"SELECT {select} FROM ({compiled.sql[name]}) AS m ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_playbook_texts_with_quotes_reach_the_mart_as_text(compiled):
    rows = run_model(compiled, "account_playbook", "DISTINCT maturity_segment, key_initiative, relationship_owner")
    by_segment = {seg: (ki, owner) for seg, ki, owner in rows}
    assert by_segment, "the clean run has no active customer at the newest month"
    if "TRANSFORM" in by_segment:
        assert by_segment["TRANSFORM"][0] == HOSTILE_TEXT
    if "SUSTAIN" in by_segment:
        assert by_segment["SUSTAIN"][1] == "O'Brien & \"Sons\""
    # the texts are literals of the compiled SQL (whichever segments the sample data has)
    assert HOSTILE_TEXT.replace("'", "''") in compiled.sql["account_playbook"]


@pytest.mark.slow
def test_target_segment_names_are_data_not_sql(compiled):
    rows = run_model(compiled, "kpi_target_status", "DISTINCT segmentation, segment, kpi, status")
    assert rows and {r[1] for r in rows} == {HOSTILE_SEGMENT}
    assert {r[3] for r in rows} == {"NO_DATA"}  # no such segment: the target has no data
    # the warehouse is unharmed (the hostile texts carry DROP TABLE)
    con = duckdb.connect(str(compiled.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.segment_kpis").fetchone()[0] > 0
    finally:
        con.close()


@pytest.mark.slow
def test_numbers_reach_sql_only_as_validated_decimals(compiled):
    """Weights are exact decimal literals (`cast('0.3' as decimal(38,12))`), never floats or text."""
    sql = compiled.sql["int_cost_pool_rates"] + compiled.sql["int_cost_allocation"]
    assert "decimal(38,12)" in sql.lower()
    settings = load_settings(compiled.config)
    assert settings.segments.playbook["TRANSFORM"].key_initiative == HOSTILE_TEXT


@pytest.mark.parametrize("key,value", [
    ("cost_to_serve.late_payment_weight", "5; DROP TABLE x"),
    ("currency.lcy", "USD'; --"),
    ("cost_to_serve.order_entry_channel_weights", {"EDI": 1, "API": 1, "PORTAL": 1, "EMAIL": 1,
                                                   "PHONE": 1, "FAX' OR 1=1 --": 1}),
    ("segments.ratio_decimals", "9) FROM x; --"),
])
def test_settings_that_would_be_sql_are_refused_on_load(tmp_path, key, value):
    """Identifiers, codes and numbers of the configuration are validated before any SQL exists."""
    import yaml

    from assets.core.settings import DEFAULT_CONFIG_FILE

    cfg = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    node = cfg
    *parents, last = key.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    path = tmp_path / "strata.yml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with pytest.raises(ConfigError, match=parents[0] if parents else key):
        load_settings(path)

"""The configuration file: defaults from methodology.md, strict validation, a stable version."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from assets.core.settings import DEFAULT_CONFIG_FILE, ConfigError, load_settings


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "strata.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def defaults() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))


def test_shipped_defaults_are_the_methodology_defaults():
    s = load_settings()
    assert s.currency.lcy == "USD"
    assert s.cost_to_serve.order_entry_channel_weights == {
        "PHONE": 1.0, "EMAIL": 1.0, "PORTAL": 0.3, "API": 0.1, "EDI": 0.1}
    assert s.cost_to_serve.late_payment_weight == 5
    assert s.cost_to_serve.receivables_annual_rate == Decimal("0.08")
    assert s.cost_to_serve.days_per_year == 365
    assert s.reconciliation.tolerance_lcy == Decimal("1.00")
    assert s.segments.strata.topline.weights == {"net_revenue": 0.5, "orders": 0.3, "product_families": 0.2}
    assert s.segments.strata.topline.high_cut == 0.70
    assert s.segments.strata.profitability.weights == {"contribution_margin": 0.6, "contribution_margin_pct": 0.4}
    assert s.segments.strata.profitability.high_cut == 0.50
    assert s.segments.maturity.tiers == {"TRANSACTIONAL": 0, "DEVELOPING": 25, "ADVANCED": 50, "STRATEGIC": 75}
    assert s.kpis.cltv.retention_cap == 0.95 and s.kpis.cltv.discount_rate == 0.10
    assert len(s.kpis.targets) == 5


def test_a_file_is_read_every_time_and_validated_once_per_content(tmp_path, defaults):
    path = _write(tmp_path, defaults)
    first = load_settings(path)
    assert load_settings(path) is first  # the same content: the one validated object
    defaults["currency"]["lcy"] = "EUR"
    _write(tmp_path, defaults)  # edited in place, same path
    assert load_settings(path).currency.lcy == "EUR"
    path.write_text("currency: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path)


def test_version_depends_on_content_not_on_key_order(tmp_path, defaults):
    reordered = _write(tmp_path, dict(reversed(list(defaults.items()))))
    assert load_settings(reordered).version == load_settings().version
    defaults["reconciliation"]["tolerance_lcy"] = 2.5
    assert load_settings(_write(tmp_path, defaults)).version != load_settings().version


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["segments"]["strata"]["topline"].__setitem__("high_cut", 1.5),
         "segments.strata.topline.high_cut: Input should be less than or equal to 1"),
        (lambda d: d.__setitem__("colour", "blue"), "colour: Extra inputs are not permitted"),
        (lambda d: d["cost_to_serve"]["order_entry_channel_weights"].pop("EDI"),
         "cost_to_serve.order_entry_channel_weights: Value error, give a weight for every order channel; missing: EDI"),
        (lambda d: d["segments"]["maturity"]["tiers"].__setitem__("DEVELOPING", 80),
         "segments.maturity.tiers: Value error, tier lower bounds must start at 0 and ascend"),
        (lambda d: d["kpis"]["targets"][0].update(low=None, high=None),
         "kpis.targets.0: Value error, a target needs a low or a high bound"),
        (lambda d: d["segments"]["playbook"].pop("SUSTAIN"),
         "segments.playbook: Value error, give a play for every maturity segment; missing: SUSTAIN"),
        (lambda d: d["cost_to_serve"]["practical_capacity"].__setitem__("LOADING_DOCK", 10),
         "cost_to_serve.practical_capacity.LOADING_DOCK.[key]"),
        (lambda d: d["currency"].__setitem__("lcy", "usd"), "currency.lcy: String should match pattern"),
    ],
)
def test_invalid_settings_name_the_key_and_the_problem(tmp_path, defaults, edit, message):
    edit(defaults)
    path = _write(tmp_path, defaults)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_and_malformed_files_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("currency: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_dbt_vars_carry_the_settings_and_version():
    s = load_settings()
    v = s.dbt_vars()
    assert v["config_version"] == s.version and len(s.version) == 12
    assert v["strata"]["cost_to_serve"]["late_payment_weight"] == 5
    assert v["strata"]["reconciliation"]["tolerance_lcy"] == "1.0"  # decimals travel as exact text


def test_warehouse_runtime_settings_are_validated_and_no_part_of_the_version(tmp_path, defaults):
    s = load_settings()
    assert s.warehouse.duckdb_config() == {"memory_limit": "4GB"}
    assert "warehouse" not in s.dbt_vars()["strata"]
    defaults["warehouse"] = {"threads": 1, "memory_limit": "512MB", "temp_directory": "/tmp/spill"}
    tuned = load_settings(_write(tmp_path, defaults))
    assert tuned.version == s.version  # runtime tuning changes no number and no config_version
    assert tuned.warehouse.duckdb_config() == {"threads": "1", "memory_limit": "512MB", "temp_directory": "/tmp/spill"}
    del defaults["warehouse"]
    assert load_settings(_write(tmp_path, defaults)).warehouse == s.warehouse  # the section is optional
    defaults["warehouse"] = {"memory_limit": "lots"}
    with pytest.raises(ConfigError, match="warehouse.memory_limit"):
        load_settings(_write(tmp_path, defaults))


def test_the_first_month_partition_is_validated_and_no_part_of_the_version(tmp_path, defaults):
    s = load_settings()
    assert s.partitions.first_month == "2020-01" and "partitions" not in s.dbt_vars()["strata"]
    defaults["partitions"] = {"first_month": "2024-09"}
    later = load_settings(_write(tmp_path, defaults))
    assert later.partitions.first_month == "2024-09" and later.version == s.version
    del defaults["partitions"]
    assert load_settings(_write(tmp_path, defaults)).partitions == s.partitions  # the section is optional
    defaults["partitions"] = {"first_month": "2024-9"}
    with pytest.raises(ConfigError, match="partitions.first_month"):
        load_settings(_write(tmp_path, defaults))


def test_quality_thresholds_are_validated_and_no_part_of_the_version(tmp_path, defaults):
    s = load_settings(_write(tmp_path, defaults))
    assert (s.quality.quarantine_warn_share, s.quality.quarantine_block_share) == (0.01, 0.10)
    assert "quality" not in s.dbt_vars()["strata"]
    defaults["quality"] = {"quarantine_warn_share": 0.05, "quarantine_block_share": None}
    assert load_settings(_write(tmp_path, defaults)).version == s.version  # a threshold changes no number
    defaults["quality"] = {"quarantine_warn_share": 0.2, "quarantine_block_share": 0.1}
    with pytest.raises(ConfigError, match="quality: .*quarantine_block_share must not be below"):
        load_settings(_write(tmp_path, defaults))
    defaults["quality"] = {"quarantine_warn_share": 1.5}
    with pytest.raises(ConfigError, match="quality.quarantine_warn_share"):
        load_settings(_write(tmp_path, defaults))

"""The predicted-value settings (methodology §13): defaults, validation naming the key, ordered cuts."""

from pathlib import Path

import pytest
import yaml

from assets.core.settings import DEFAULT_CONFIG_FILE, ConfigError, load_settings


def _write(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    edit(data["predicted_value"])
    path = tmp_path / "strata.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_defaults_are_the_methodology_defaults():
    pv = load_settings().predicted_value
    assert (pv.horizon_months, pv.churn_risk_high_below, pv.churn_risk_medium_below) == (12, 0.50, 0.80)
    assert load_settings().dbt_vars()["strata"]["predicted_value"]["churn_risk_medium_below"] == 0.80


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(churn_risk_high_below=0.9),
     "predicted_value: Value error, churn_risk_high_below must not exceed churn_risk_medium_below"),
    (lambda d: d.update(horizon_months=0), "predicted_value.horizon_months: Input should be greater than or equal to 1"),
    (lambda d: d.update(churn_risk_medium_below=1.2), "predicted_value.churn_risk_medium_below: Input should be less"),
    (lambda d: d.pop("horizon_months"), "predicted_value.horizon_months: Field required"),
])
def test_invalid_settings_name_the_key(tmp_path, edit, message):
    path = _write(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert message in str(err.value)


def test_the_horizon_changes_the_configuration_version(tmp_path):
    assert load_settings(_write(tmp_path, lambda d: d.update(horizon_months=6))).version != load_settings().version

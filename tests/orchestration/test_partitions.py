"""The `month` partitions: Dagster's monthly time windows from the configured first month, keys
YYYY-MM, through the open month; a landing month outside them is refused before any run."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.core.partitions import month_keys, month_partitions
from assets.core.settings import ConfigError, load_settings
from orchestration.preflight import MONTH_RE, MaterializeError, check_months, open_month
from tests.orchestration.helpers import build_defs, config_from, write_fx
from tests.orchestration.test_cli import strata

SALES = dg.AssetKey(["erp", "sales_lines"])


def test_the_partitions_start_at_the_configured_first_month(tmp_path):
    defs, _ = build_defs(tmp_path / "landing", tmp_path / "out", config_from(tmp_path, "2024-03"))
    months = defs.resolve_job_def("rerun_month").partitions_def
    assert isinstance(months, dg.MonthlyPartitionsDefinition)
    assert months == month_partitions("2024-03") == defs.resolve_assets_def(SALES).partitions_def
    keys = months.get_partition_keys()
    assert keys[:3] == ["2024-03", "2024-04", "2024-05"]
    assert all(MONTH_RE.fullmatch(k) for k in keys) and keys == sorted(set(keys))
    assert keys[-1] == open_month()  # the open month is a partition: the preflight's bound too


def test_the_default_first_month():
    first = load_settings().partitions.first_month
    assert first == "2020-01" and month_keys(first)[0] == first


@pytest.mark.parametrize("bad", ["2020-13", "2020-1", "January 2020"])
def test_a_first_month_that_is_no_month_is_refused(tmp_path, bad):
    with pytest.raises(ConfigError, match=r"partitions\.first_month"):
        load_settings(config_from(tmp_path, bad))


def test_landing_months_outside_the_partitions_are_refused_by_name(tmp_path):
    landing, config = tmp_path / "landing", tmp_path / "strata.yml"
    write_fx(landing, "2024-02")
    write_fx(landing, "2024-03")
    check_months(landing, "2024-02", config)
    with pytest.raises(MaterializeError) as refused:
        check_months(landing, "2024-03", config)
    message = str(refused.value)
    assert "erp/fx_rates/2024-02" in message and "before the first month partition 2024-03" in message
    assert f'set `partitions: first_month: "2024-02"` in the configuration ({config})' in message
    assert f"or move them out of {landing}" in message
    write_fx(landing, "2099-01")
    with pytest.raises(MaterializeError, match=r"after the open month .*erp/fx_rates/2099-01"):
        check_months(landing, "2024-02", config)


def test_materialize_refuses_a_month_before_the_first_month_before_any_run(tmp_path):
    landing, out = tmp_path / "landing", tmp_path / "out"
    write_fx(landing, "2024-02")
    config = config_from(tmp_path, "2024-03")
    done = strata("materialize", "--landing", str(landing), "--out", str(out), "--config", str(config))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "erp/fx_rates/2024-02" in message and "before the first month partition 2024-03" in message
    assert not (out / "dagster_home").exists() and not (out / "warehouse.duckdb").exists()

"""What the report reads from the marts, on four customers written for the test (sums by hand)."""

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
import yaml

from assets.core.settings import DEFAULT_CONFIG_FILE, ConfigError, load_settings
from assets.report import pages
from assets.report.data import read_report_data, window_start

M = dt.date(2026, 10, 31)
TABLES = {"customer_segments", "fct_customer_profit_monthly", "fct_cost_to_serve_monthly", "account_playbook"}
WATERFALL_COLUMNS = (
    "gross_sales, credits, net_revenue, cogs, rebate_income, services_cost, gross_margin, cost_to_serve, "
    "contribution_margin"
)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        """
        CREATE TABLE customer_segments (month DATE, customer_no VARCHAR, customer_name VARCHAR, stratum VARCHAR,
            maturity_segment VARCHAR, net_revenue_t12m DECIMAL(18,2), contribution_margin_t12m DECIMAL(18,2));
        INSERT INTO customer_segments VALUES
            ('2026-09-30', 'A', 'Alpha Networks', 'MARGINAL', 'SUSTAIN', 10, 1),  -- an older month: not read
            ('2026-10-31', 'A', 'Alpha Networks', 'CORE', 'TRANSFORM', 5000, 500),
            ('2026-10-31', 'B', 'Beta Systems', 'CORE', 'TRANSFORM', 4000, 300),
            ('2026-10-31', 'C', 'Gamma IT', 'CORE', 'SUSTAIN', 3000, -50),
            ('2026-10-31', 'D', 'Delta Tech', 'MARGINAL', 'SUSTAIN', 100, 10);
        """
    )
    money = ", ".join(f"{c.strip()} DECIMAL(18,2)" for c in WATERFALL_COLUMNS.split(","))
    con.execute(f"CREATE TABLE fct_customer_profit_monthly (month DATE, customer_no VARCHAR, {money})")
    con.execute(
        f"""
        INSERT INTO fct_customer_profit_monthly (month, customer_no, {WATERFALL_COLUMNS}) VALUES
            -- A: the month before the 24-month window (Nov 2024 .. Oct 2026) and one after it
            ('2024-10-31', 'A', 1000, 0, 1000, 800, 0, 0, 200, 100, 100),
            ('2026-11-30', 'A', 5, 0, 5, 0, 0, 0, 5, 0, 5),
            -- A in the window: 100.00 - 70.00 + 1.11 - 2.22 = 28.89 gross margin, - 16.55 = 12.34
            ('2024-11-30', 'A', 110.10, 10.10, 100.00, 70.00, 1.11, 2.22, 28.89, 16.55, 12.34),
            ('2026-10-31', 'A', 0.01, 0, 0.01, 0, 0, 0, 0.01, 0, 0.01),
            -- B has no page (the second best CORE customer when one a side gets one)
            ('2026-10-31', 'B', 999, 0, 999, 0, 0, 0, 999, 0, 999)
        """
    )
    con.execute(
        """
        CREATE TABLE fct_cost_to_serve_monthly (month DATE, customer_no VARCHAR, activity VARCHAR,
            driver_units DECIMAL(38,12), rate DOUBLE, cost DECIMAL(18,2));
        INSERT INTO fct_cost_to_serve_monthly VALUES
            ('2025-10-31', 'A', 'ORDER_ENTRY', 1, 1, 100.00),  -- before W(M) = Nov 2025 .. Oct 2026
            ('2025-11-30', 'A', 'ORDER_ENTRY', 1, 1, 10.00),
            ('2026-10-31', 'A', 'ORDER_ENTRY', 1, 1, 5.00),
            ('2026-01-31', 'B', 'ORDER_ENTRY', 1, 1, 40.00),
            ('2026-02-28', 'C', 'SUPPORT_DESK', 1, 1, 7.00),
            ('2026-03-31', 'D', 'ORDER_ENTRY', 1, 1, 3.00);
        CREATE TABLE account_playbook (customer_no VARCHAR, customer_name VARCHAR, month DATE, stratum VARCHAR,
            maturity_segment VARCHAR, profitability_quadrant VARCHAR, review_cadence VARCHAR, key_initiative VARCHAR,
            relationship_owner VARCHAR, last_review_date DATE, next_review_due DATE, review_overdue BOOLEAN);
        INSERT INTO account_playbook VALUES
            ('A', 'Alpha Networks', '2026-10-31', 'CORE', 'TRANSFORM', 'NURTURE_AND_RETAIN', 'monthly',
             'transform', 'vCIO', '2026-08-15', '2026-09-15', true);
        """
    )
    return con


def _read(con, per_stratum):
    return read_report_data(con, TABLES, per_stratum=per_stratum, waterfall_months=24, window_months=12)


def test_pages_go_to_the_most_and_least_profitable_of_each_stratum(con):
    # CORE by T12M CM: A 500, B 300, C -50 -> best A, worst C; MARGINAL: D alone.
    assert _read(con, 1).page_customers == ["A", "C", "D"]
    assert _read(con, 2).page_customers == ["A", "B", "C", "D"]  # 2 a side covers CORE's three
    assert _read(con, None).page_customers == ["A", "B", "C", "D"]
    assert _read(con, 0).page_customers == []


def test_the_waterfall_sums_the_window_of_the_profit_fact(con):
    data = _read(con, 1)
    assert data.month == M and data.waterfall_from == dt.date(2024, 11, 30)
    # A: the two rows of Nov 2024 and Oct 2026 only.
    assert data.waterfall["A"] == {
        "gross_sales": Decimal("110.11"),
        "credits": Decimal("10.10"),
        "net_revenue": Decimal("100.01"),
        "cogs": Decimal("70.00"),
        "rebate_income": Decimal("1.11"),
        "services_cost": Decimal("2.22"),
        "gross_margin": Decimal("28.90"),
        "cost_to_serve": Decimal("16.55"),
        "contribution_margin": Decimal("12.35"),
    }
    assert set(data.waterfall) == {"A"}  # C and D have no profit rows; B has no page
    assert [cm for _, _, cm in data.monthly["A"]] == [Decimal("12.34"), Decimal("0.01")]


def test_cost_to_serve_by_activity_against_the_segment_median(con):
    data = _read(con, 1)
    assert data.cts_window_from == dt.date(2025, 11, 30)
    # A: 10.00 + 5.00 in W(M) (the 100.00 of Oct 2025 is outside); C: 7.00 support desk.
    assert data.cts["A"] == {"ORDER_ENTRY": Decimal("15.00"), "SUPPORT_DESK": Decimal("0")}
    assert data.cts["C"] == {"ORDER_ENTRY": Decimal("0"), "SUPPORT_DESK": Decimal("7.00")}
    # TRANSFORM = A, B: order entry 15 and 40 -> 27.5, support desk 0 and 0 -> 0.
    # SUSTAIN = C, D: order entry 0 and 3 -> 1.5, support desk 7 and 0 -> 3.5.
    assert data.cts_medians == {
        "TRANSFORM": {"ORDER_ENTRY": Decimal("27.5"), "SUPPORT_DESK": Decimal("0.0")},
        "SUSTAIN": {"ORDER_ENTRY": Decimal("1.5"), "SUPPORT_DESK": Decimal("3.5")},
    }


def test_the_pages_and_the_table_carry_the_marts_values(con):
    data = _read(con, 1)
    settings = load_settings()
    built = pages.customer_pages(data, settings)
    assert list(built) == ["A", "C", "D"]
    a = built["A"]
    assert a["waterfall"]["contribution_margin"] == 12.35 and a["waterfall"]["credits"] == 10.10
    assert a["cost_to_serve"] == [
        {"activity": "ORDER_ENTRY", "cost": 15.0, "segment_median": 27.5},
        {"activity": "SUPPORT_DESK", "cost": 0.0, "segment_median": 0.0},
    ]
    assert a["playbook"]["review_overdue"] is True and a["playbook"]["next_review_due"] == "2026-09-15"
    assert a["monthly"] == {
        "month": ["2024-11-30", "2026-10-31"],
        "net_revenue": [100.0, 0.01],
        "contribution_margin": [12.34, 0.01],
    }
    assert built["D"]["playbook"] == {} and "waterfall" not in built["D"]
    assert a["predicted"] == {}  # no predicted-value columns in these marts
    # Factor names and weights come from the configuration, not from the code.
    assert [f["factor"] for f in a["why"]["topline"]] == list(settings.segments.strata.topline.weights)
    assert [m["dimension"] for m in a["maturity"]] == list(settings.segments.maturity.dimension_weights)
    table = pages.table(data)
    assert [c["key"] for c in table["columns"]] == [
        "customer_no", "customer_name", "stratum", "maturity_segment", "net_revenue_t12m", "contribution_margin_t12m",
    ]
    assert table["rows"][0] == ["A", "Alpha Networks", "CORE", "TRANSFORM", 5000.0, 500.0]
    assert table["pages"] == ["A", "C", "D"]
    assert pages.explanation(settings)["segments"] == list(settings.segments.playbook)


def test_window_start_counts_month_ends_back():
    assert window_start(M, 24) == dt.date(2024, 11, 30)
    assert window_start(M, 1) == M
    assert window_start(dt.date(2024, 2, 29), 12) == dt.date(2023, 3, 31)


def test_the_report_settings_are_validated_and_no_part_of_the_version(tmp_path):
    defaults = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    s = load_settings()
    assert (s.report.customer_pages_per_stratum, s.report.waterfall_months) == (100, 24)
    assert "report" not in s.dbt_vars()["strata"]
    defaults["report"] = {"customer_pages_per_stratum": None, "waterfall_months": 12}
    path = tmp_path / "strata.yml"
    path.write_text(yaml.safe_dump(defaults), encoding="utf-8")
    every = load_settings(path)
    assert every.report.customer_pages_per_stratum is None and every.version == s.version
    defaults["report"] = {"customer_pages_per_stratum": -1}
    path.write_text(yaml.safe_dump(defaults), encoding="utf-8")
    with pytest.raises(ConfigError, match="report.customer_pages_per_stratum"):
        load_settings(path)

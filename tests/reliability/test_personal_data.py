"""No personal data reaches the published marts.

What counts as personal data in these extracts (docs/reliability.md, "Personal data"): the landing
contract holds no person at all: no contact names, e-mail addresses or phone numbers; CRM and PSA
owners are roles (ACCOUNT_MANAGER, HELPDESK, ...), not people. `customer_name` is the reseller's
registered company name, business data that marts.md publishes on purpose (customer_segments,
account_playbook). What could still carry a person: free-text fields of the source systems (CRM
account names, PSA company names and identifiers, item descriptions, industry) and extra columns a
source adds to its export (`_extra`: a `contact_email` column, say). None of them may reach a mart.

The test plants unmistakable values in every such field of the clean run's raw layer, rebuilds
every model with dbt, publishes, and searches every published table.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from assets.publishing import open_published, publish_version
from tests.reliability.harness import make_writable, published_rows
from tests.support.warehouse import run_dbt

pytestmark = pytest.mark.slow

PLANTED = "PII-PLANTED"
EMAIL = "jane.doe.pii@example.com"
FREE_TEXT = {
    "crm__accounts": ["account_name", "industry"],
    "psa__companies": ["company_name", "company_identifier"],
    "erp__items": ["description"],
    "erp__shipments": ["carrier"],
}


def test_free_text_and_extra_columns_never_reach_the_published_marts(clean, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    warehouse = out / "warehouse.duckdb"
    shutil.copy(clean.out / "warehouse.duckdb", warehouse)
    extra = json.dumps({"contact_email": EMAIL, "contact_name": f"{PLANTED} Jane Doe",
                        "phone": "+49 30 1234567"})
    con = duckdb.connect(str(warehouse))
    try:
        for table, columns in FREE_TEXT.items():
            sets = ", ".join(f"{c} = '{PLANTED} ' || {c}" for c in columns)
            con.execute(f"UPDATE raw.{table} SET {sets}")
        raw_tables = [t for t, in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()]
        for table in raw_tables:
            con.execute(f"UPDATE raw.{table} SET _extra = ?", [extra])
        customer_names = {n for n, in con.execute(
            "SELECT DISTINCT customer_name FROM raw.erp__customers").fetchall()}
    finally:
        con.close()

    result = run_dbt(warehouse, ["run"], work=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
    publish_version(warehouse, out, "personal-data-test")

    rows = published_rows(out)
    marts = [t for t, meta in open_published(out).tables.items() if meta["schema"] == "marts"]
    assert len(marts) == 9
    found = []
    for table in marts:
        header, *data = rows[table]
        for row in data:
            for column, value in zip(header, row, strict=True):
                if isinstance(value, str) and (PLANTED in value or EMAIL in value or "Jane Doe" in value
                                               or "1234567" in value):
                    found.append((table, column, value))
    assert found == [], f"personal or free-text data in the marts: {found[:5]}"
    # customer_name is published (marts.md), and it is the ERP's company name
    header, *data = rows["customer_segments"]
    published_names = {r[header.index("customer_name")] for r in data}
    assert published_names and published_names <= customer_names
    make_writable(out)

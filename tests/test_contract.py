"""The landing contract the code enforces (assets/core/extracts.yml, explained in
docs/landing-contract.md), and its entities, keys and raw tables."""

import os
from pathlib import Path

import duckdb
import pytest
import yaml

from assets.core import contract
from tests.support.ci import in_ci

# The product specification the contract was copied from is kept outside the repository, beside
# the clone of the people who maintain strata (STRATA_SPEC_DIR, else ../shared/spec); a user's
# clone does not have it and needs nothing from it.
SPEC_DIR = Path(os.environ.get("STRATA_SPEC_DIR") or Path(__file__).resolve().parents[2] / "shared" / "spec")


def test_the_contract_equals_the_specifications_in_ci():
    """CI-time only: when CI=true and the specification is present beside the clone, the project's
    contract must hold exactly its entities, columns, types, keys and allowed values (comments may
    differ: the project's point at its own docs). Skipped everywhere else: a clone stands alone."""
    spec = SPEC_DIR / "extracts.yml"
    if not in_ci():
        pytest.skip("compared with the specification in CI only (CI=true)")
    if not spec.is_file():
        pytest.skip(f"no specification beside this clone ({spec}); set STRATA_SPEC_DIR to compare")
    ours = yaml.safe_load(contract.CONTRACT_FILE.read_text(encoding="utf-8"))
    assert ours == yaml.safe_load(spec.read_text(encoding="utf-8"))


def test_every_entity_is_known_with_its_key_and_batch_column():
    ents = contract.entities()
    assert len(ents) == 16
    assert {s for s, _ in ents} == set(contract.SYSTEMS)
    sales = contract.entity("erp", "sales_lines")
    assert sales.key == ("document_type", "document_no", "line_no")
    assert sales.batch_by == "posting_date" and sales.kind == "transactional"
    assert sales.column("return_reason").nullable
    assert sales.column("return_reason").enum == ("DEFECTIVE", "WRONG_ITEM", "NOT_NEEDED", "PRICE_ADJUSTMENT")
    assert contract.entity("erp", "customers").kind == "snapshot"
    assert contract.entity("crm", "opportunities").batch_by == "last_modified_at"
    with pytest.raises(KeyError, match="unknown entity erp/widgets"):
        contract.entity("erp", "widgets")


def test_raw_tables_have_typed_contract_columns_then_bookkeeping():
    con = duckdb.connect()
    contract.create_raw_tables(con)
    cols = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = 'erp__payments' ORDER BY ordinal_position"
    ).fetchall()
    assert cols == [
        ("payment_no", "VARCHAR"), ("customer_no", "VARCHAR"), ("document_no", "VARCHAR"),
        ("due_date", "DATE"), ("payment_date", "DATE"), ("amount", "DECIMAL(38,12)"), ("currency", "VARCHAR"),
        ("_batch", "VARCHAR"), ("_file", "VARCHAR"), ("_line", "BIGINT"), ("_extra", "JSON"),
        ("_loaded_at", "TIMESTAMP"),
    ]
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchone()[0] == 16

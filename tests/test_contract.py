"""The landing contract the code enforces is the specification's, column for column."""

from pathlib import Path

import duckdb
import pytest

from orchestration import contract

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "extracts.yml"


def test_contract_copy_equals_the_specification():
    if not SPEC.exists():
        pytest.fail(f"the specification {SPEC} is missing: shared/ must sit beside the checkout")
    assert contract.CONTRACT_FILE.read_bytes() == SPEC.read_bytes()


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

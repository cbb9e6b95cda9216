"""A small hand-computed world for the finance marts (methodology §1-5).

Three customers and UNASSIGNED over January and February 2026; LCY is USD (the default config):
- C100 Alpha GmbH bills in EUR (rates: January 1.10, February 1.20), payment terms 30 days;
- C200 Beta Ltd bills in GBP (rates: January 1.25, February 1.30), terms 45 days;
- C300 Gamma Inc bills in USD, the LCY: no fx_rates row, it converts at 1;
- C400 Delta SA has nothing but a SUBMITTED rebate claim: every measure 0, so no row;
- C999 is in the older (January) customer snapshot only: the newest snapshot decides, so all its
  rows (both months) belong to UNASSIGNED.
CRM: ACC-A and ACC-A2 both map to C100; ACC-DEL points at C300 but is soft-deleted in the newest
snapshot (it was live in January's: the newest crosswalk applies to all history) -> UNASSIGNED;
ACC-N has no ERP customer -> UNASSIGNED.
PSA: company 1 -> C100 directly; 2 has no erp_customer_no, mapped only via CRM ACC-B -> C200;
3 names an unknown customer C777 and no account -> UNASSIGNED; 4 only via the deleted ACC-DEL ->
UNASSIGNED; 5 -> C300.

The expected numbers, worked out by hand from these rows, are in test_finance_marts.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from tests.support.warehouse import Batch

# 18-character CRM ids
ACC_A, ACC_A2 = "001AAAAAAAAAAAAAAA", "001AAAAAAAAAAAAA02"
ACC_B, ACC_C = "001BBBBBBBBBBBBBBB", "001CCCCCCCCCCCCCCC"
ACC_DEL, ACC_N = "001DDDDDDDDDDDDDEL", "001NNNNNNNNNNNNNNN"


def customer(no, name, currency, terms, group="VAR", country="DE"):
    return {"customer_no": no, "customer_name": name, "customer_group": group, "country": country,
            "currency": currency, "payment_terms_days": terms, "credit_limit_lcy": D("50000.00"),
            "created_date": date(2020, 1, 1), "status": "ACTIVE", "parent_customer_no": None}


def line(doc, no, posting, customer_no, item, qty, price, discount, net, currency, cost, channel, drop_ship,
         reason=None, order=None):
    """A sales line; CM-* documents are credit memos, the others invoices."""
    return {"document_type": "CREDIT_MEMO" if doc.startswith("CM-") else "INVOICE", "document_no": doc,
            "line_no": no, "posting_date": posting, "order_no": order, "customer_no": customer_no,
            "item_no": item, "quantity": D(qty), "unit_price": D(price), "line_discount_amount": D(discount),
            "net_amount": D(net), "currency": currency, "cost_amount_lcy": D(cost), "order_channel": channel,
            "is_drop_ship": drop_ship, "warehouse_code": None if drop_ship else "W1", "return_reason": reason}


def shipment(no, order, customer_no, day, cost, charged):
    return {"shipment_no": no, "order_no": order, "customer_no": customer_no, "ship_date": day,
            "service_level": "STANDARD", "carrier": "UPS", "packages": 1, "weight_kg": D("5.0"),
            "freight_cost_lcy": D(cost), "freight_charged_lcy": D(charged)}


def claim(no, customer_no, day, amount, status):
    return {"claim_no": no, "vendor_name": "Vendor", "customer_no": customer_no, "item_no": None,
            "document_no": None, "claim_date": day, "rebate_amount_lcy": D(amount), "status": status}


def payment(no, customer_no, doc, due, paid, amount, currency):
    return {"payment_no": no, "customer_no": customer_no, "document_no": doc, "due_date": due,
            "payment_date": paid, "amount": D(amount), "currency": currency}


def gl(period_end, code, category, amount, pool=None):
    return {"period_end": period_end, "account_code": code, "account_name": f"{category} {code}",
            "account_category": category, "cost_pool": pool, "amount_lcy": D(amount)}


def account(account_id, erp_customer_no, deleted=False):
    return {"account_id": account_id, "account_name": f"Account {account_id[-3:]}",
            "erp_customer_no": erp_customer_no, "industry": None, "employee_count": None,
            "owner_role": "ACCOUNT_MANAGER", "created_date": date(2021, 1, 1), "is_deleted": deleted}


def activity(no, account_id, day, kind, minutes, attended=None):
    return {"activity_id": no, "account_id": account_id, "activity_date": day, "activity_type": kind,
            "duration_minutes": minutes, "owner_role": "ACCOUNT_MANAGER", "customer_attended": attended}


def company(company_id, name, crm_account_id, erp_customer_no):
    return {"company_id": company_id, "company_identifier": name.upper(), "company_name": name,
            "crm_account_id": crm_account_id, "erp_customer_no": erp_customer_no, "status": "ACTIVE"}


def time_entry(entry_id, company_id, day, hours, billable, cost):
    return {"time_entry_id": entry_id, "company_id": company_id, "ticket_id": None,
            "member_role": "ENGINEER" if billable else "HELPDESK", "work_date": day, "hours": D(hours),
            "billable": billable, "hourly_cost_lcy": D(cost),
            "hourly_rate": D("120.00") if billable else None}


JAN, FEB = date(2026, 1, 31), date(2026, 2, 28)


def jan(day):
    return date(2026, 1, day)


def feb(day):
    return date(2026, 2, day)


BATCHES = [
    # ---- ERP customers: the February snapshot is the newest and decides (C999 is gone, C100 terms 30)
    Batch("erp", "customers", "2026-01", [
        customer("C100", "Alpha GmbH", "EUR", 15), customer("C200", "Beta Ltd", "GBP", 45, country="GB"),
        customer("C300", "Gamma Inc", "USD", 60, country="US"), customer("C999", "Gone Corp", "USD", 30),
    ]),
    Batch("erp", "customers", "2026-02", [
        customer("C100", "Alpha GmbH", "EUR", 30), customer("C200", "Beta Ltd", "GBP", 45, country="GB"),
        customer("C300", "Gamma Inc", "USD", 60, country="US"),
        customer("C400", "Delta SA", "EUR", 30, country="FR"),   # only a SUBMITTED claim: no profit row
    ]),
    Batch("erp", "items", "2026-02", [
        {"item_no": "I-HW", "description": "Laptop", "vendor_name": "Vendor", "product_family": "HARDWARE",
         "category": "Notebooks", "unit_of_measure": "EA", "is_stocked": True},
        {"item_no": "I-SW", "description": "Licence", "vendor_name": "Vendor", "product_family": "SOFTWARE",
         "category": "Licences", "unit_of_measure": "EA", "is_stocked": False},
    ]),
    # ---- FX: no USD row (USD is LCY and converts at 1)
    Batch("erp", "fx_rates", "2026-01", [
        {"period_end": JAN, "currency": "EUR", "rate_to_lcy": D("1.10")},
        {"period_end": JAN, "currency": "GBP", "rate_to_lcy": D("1.25")},
    ]),
    Batch("erp", "fx_rates", "2026-02", [
        {"period_end": FEB, "currency": "EUR", "rate_to_lcy": D("1.20")},
        {"period_end": FEB, "currency": "GBP", "rate_to_lcy": D("1.30")},
    ]),
    # ---- Sales lines
    Batch("erp", "sales_lines", "2026-01", [
        line("INV-1", 1, jan(5), "C100", "I-HW", "10", "99.50", "0", "995.00", "EUR", "800.00", "PHONE",
             False, order="SO-1"),
        line("INV-1", 2, jan(5), "C100", "I-SW", "1", "200.00", "20.00", "180.00", "EUR", "100.00",
             "EMAIL", True, order="SO-1"),
        line("INV-2", 1, jan(10), "C200", "I-HW", "5", "100.00", "0", "500.00", "GBP", "450.00",
             "PORTAL", False, order="SO-2"),
        line("INV-3", 1, jan(15), "C300", "I-SW", "4", "250.00", "0", "1000.00", "USD", "700.00", "EDI",
             True, order="SO-3"),
        line("INV-4", 1, jan(20), "C999", "I-HW", "1", "50.00", "0", "50.00", "USD", "30.00", "API",
             False, order="SO-4"),
        line("CM-1", 1, jan(25), "C100", "I-HW", "1", "99.50", "0", "99.50", "EUR", "80.00", "PHONE",
             False, reason="DEFECTIVE"),
        line("CM-2", 1, jan(28), "C100", "I-HW", "1", "10.85", "0", "10.85", "EUR", "0", "EMAIL",
             False, reason="PRICE_ADJUSTMENT"),
    ]),
    Batch("erp", "sales_lines", "2026-02", [
        line("INV-5", 1, feb(3), "C100", "I-HW", "8", "125.00", "0", "1000.00", "EUR", "900.00", "PHONE",
             False, order="SO-5"),
        line("INV-5", 2, feb(10), "C100", "I-SW", "1", "50.00", "0", "50.00", "EUR", "20.00", "PHONE",
             True, order="SO-5"),
        line("INV-6", 1, feb(12), "C200", "I-HW", "3", "111.11", "0", "333.33", "GBP", "250.00", "API",
             False, order="SO-6"),
        line("INV-7", 1, feb(20), "C300", "I-HW", "1", "250.00", "0", "250.00", "USD", "200.00", "EMAIL",
             False, order="SO-7"),
        line("CM-3", 1, feb(15), "C200", "I-HW", "1", "100.00", "0", "100.00", "GBP", "90.00", "API",
             False, reason="WRONG_ITEM"),
    ]),
    # ---- Shipments (freight in LCY)
    Batch("erp", "shipments", "2026-01", [
        shipment("SH-1", "SO-1", "C100", jan(6), "40.00", "25.00"),
        shipment("SH-2", "SO-2", "C200", jan(11), "20.00", "30.00"),   # over-recovered
        shipment("SH-3", "SO-4", "C999", jan(21), "8.00", "5.00"),
        shipment("SH-6", "SO-3", "C300", jan(16), "5.00", "5.00"),    # net freight exactly 0: no row
    ]),
    Batch("erp", "shipments", "2026-02", [
        shipment("SH-4", "SO-5", "C100", feb(4), "12.50", "0.00"),
        shipment("SH-5", "SO-7", "C300", feb(21), "9.99", "14.99"),    # over-recovered
    ]),
    # ---- Rebate claims (income only when APPROVED or PAID)
    Batch("erp", "rebate_claims", "2026-01", [
        claim("RB-1", "C100", JAN, "50.00", "APPROVED"),
        claim("RB-2", "C100", JAN, "20.00", "SUBMITTED"),
        claim("RB-3", "C200", JAN, "30.00", "PAID"),
        claim("RB-4", "C300", JAN, "40.00", "REJECTED"),
        claim("RB-5", "C999", JAN, "5.00", "APPROVED"),
        claim("RB-7", "C400", JAN, "12.00", "SUBMITTED"),
    ]),
    Batch("erp", "rebate_claims", "2026-02", [
        claim("RB-6", "C300", feb(27), "15.00", "PAID"),
    ]),
    # ---- Payments
    Batch("erp", "payments", "2026-01", [
        payment("P-1", "C100", "INV-1", jan(20), jan(25), "1175.00", "EUR"),       # late
    ]),
    Batch("erp", "payments", "2026-02", [
        payment("P-2", "C300", "INV-3", feb(14), feb(10), "1000.00", "USD"),       # on time
        payment("P-3", "C200", "INV-OLD", feb(15), feb(20), "200.00", "GBP"),      # late, invoice missing
        payment("P-4", "C999", "INV-4", feb(19), feb(5), "50.00", "USD"),          # UNASSIGNED, on time
        payment("P-5", "C999", "INV-X9", feb(1), feb(10), "73.00", "USD"),         # UNASSIGNED, late, missing
        payment("P-6", "C100", "INV-5", date(2026, 3, 5), feb(23), "500.00", "EUR"),  # two-date invoice
        payment("P-7", "C300", "INV-7", date(2026, 3, 22), feb(18), "100.00", "USD"),  # before the invoice
    ]),
    # ---- General ledger
    Batch("erp", "gl_balances", "2026-01", [
        gl(JAN, "4000", "REVENUE", "2846.12"),
        gl(JAN, "5000", "COGS", "2010.00"),            # 10.00 more than the pipeline: DIFFERENCE
        gl(JAN, "4100", "REBATE_INCOME", "85.00"),
        gl(JAN, "5100", "SERVICES_COST", "442.00"),
        gl(JAN, "5200", "FREIGHT_COST", "73.00"),
        gl(JAN, "4200", "FREIGHT_RECOVERY", "65.00"),
        gl(JAN, "6100", "COST_POOL", "100.00", "ORDER_ENTRY"),
        gl(JAN, "6200", "COST_POOL", "100.00", "WAREHOUSE"),
        gl(JAN, "6300", "COST_POOL", "25.00", "RETURNS"),
        gl(JAN, "6400", "COST_POOL", "340.00", "SALES_COVERAGE"),
        gl(JAN, "6500", "COST_POOL", "50.00", "SUPPORT_DESK"),
        gl(JAN, "6600", "COST_POOL", "60.00", "CREDIT_COLLECTIONS"),
        gl(JAN, "7000", "OTHER", "500.00"),
        gl(JAN, "7100", "OTHER", "250.00"),
    ]),
    Batch("erp", "gl_balances", "2026-02", [
        gl(FEB, "4000", "REVENUE", "1813.33"),
        gl(FEB, "5000", "COGS", "1280.00"),
        gl(FEB, "4100", "REBATE_INCOME", "15.00"),
        gl(FEB, "5100", "SERVICES_COST", "100.50"),    # 0.50 off: within the 1.00 tolerance
        gl(FEB, "5200", "FREIGHT_COST", "22.49"),
        gl(FEB, "4200", "FREIGHT_RECOVERY", "14.99"),
        gl(FEB, "6100", "COST_POOL", "75.00", "ORDER_ENTRY"),
        gl(FEB, "6200", "COST_POOL", "60.00", "WAREHOUSE"),
        # no RETURNS row in February although CM-3 is a return: stays unallocated
        gl(FEB, "6400", "COST_POOL", "100.00", "SALES_COVERAGE"),  # no activities in February
        gl(FEB, "6500", "COST_POOL", "40.00", "SUPPORT_DESK"),
        gl(FEB, "6600", "COST_POOL", "33.00", "CREDIT_COLLECTIONS"),
    ]),
    # ---- CRM
    Batch("crm", "accounts", "2026-01", [
        account(ACC_A, "C100"), account(ACC_B, "C200"), account(ACC_DEL, "C300"),
    ]),
    Batch("crm", "accounts", "2026-02", [
        account(ACC_A, "C100"), account(ACC_A2, "C100"), account(ACC_B, "C200"), account(ACC_C, "C300"),
        account(ACC_DEL, "C300", deleted=True), account(ACC_N, None),
    ]),
    Batch("crm", "activities", "2026-01", [
        activity("ACT-1", ACC_A, jan(8), "CALL", 30),
        activity("ACT-2", ACC_A2, jan(12), "MEETING", 45, True),
        activity("ACT-3", ACC_B, jan(14), "QBR", 60, True),
        activity("ACT-4", ACC_DEL, jan(16), "CALL", 20),
        activity("ACT-5", ACC_N, jan(18), "EMAIL", 15),
    ]),
    # ---- PSA
    Batch("psa", "companies", "2026-02", [
        company(1, "Alpha", None, "C100"),
        company(2, "Beta", ACC_B, None),
        company(3, "Unmapped", None, "C777"),
        company(4, "Deleted link", ACC_DEL, None),
        company(5, "Gamma", ACC_C, "C300"),
    ]),
    Batch("psa", "time_entries", "2026-01", [
        time_entry(1001, 1, jan(9), "2.50", True, "60.00"),
        time_entry(1002, 1, jan(10), "1.50", False, "40.00"),
        time_entry(1003, 2, jan(11), "3.00", False, "40.00"),
        time_entry(1004, 3, jan(12), "0.50", False, "40.00"),
        time_entry(1005, 2, jan(13), "4.00", True, "55.50"),
        time_entry(1006, 4, jan(14), "1.00", True, "70.00"),
    ]),
    Batch("psa", "time_entries", "2026-02", [
        time_entry(1007, 5, feb(5), "2.00", False, "40.00"),
        time_entry(1008, 1, feb(6), "1.25", True, "80.00"),
    ]),
]

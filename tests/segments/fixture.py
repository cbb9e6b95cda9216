"""A small hand-computed world for the segment marts (methodology §6-12).

Thirteen months of sales, January 2025 … January 2026, all in USD (the LCY: no fx rates needed),
no general ledger (cost pools stay unallocated, so cost to serve is only net freight). With the
default configuration the segment months are 2025-12 (the 12th month) and 2026-01.

Customers and their sales (INVOICE lines unless said otherwise; net / cost; order; channel):
- C1 Alpha: 2025-01 INV-101 HARDWARE 1000 / 700 SO-101 EDI; 2025-06 INV-102 SOFTWARE 500 / 200 and
  CLOUD 500 / 250, both SO-102 PORTAL; 2026-01 INV-103 HARDWARE 600 / 420 SO-103 PHONE. A shipment
  in 2025-06 costs 30.00 and recovers 10.00 (net freight 20.00).
- C2 Beta (a loss-maker): 2025-03 INV-201 HARDWARE 800 / 850 SO-201 PHONE; 2025-09 INV-202
  PERIPHERALS 400 / 420 SO-202 EMAIL.
- C3 Gamma: 2025-04 INV-301 SERVICES 100 / 20 SO-301 API; 2025-05 INV-302 SERVICES 100 / 20
  SO-302 API; 2025-07 INV-303 PERIPHERALS 100 / 60 SO-303 API; 2025-11 INV-304 PERIPHERALS
  100 / 60 SO-303 again (a second invoice of the same order) API; 2025-11 credit memo CM-301
  PERIPHERALS 50 / 30 WRONG_ITEM.
- C4 Delta: 2025-01 INV-401 HARDWARE 100 / 60 SO-401 PHONE, nothing after (inactive in 2026-01).
- C5 Epsilon: 2026-01 INV-501 CLOUD 900 / 300 SO-501 API (new in 2026-01).
- CX is not in the customer snapshot: its 2025-06 INV-901 HARDWARE 5000 / 100 belongs to
  UNASSIGNED, which never gets a segment.

CRM (accounts A1 and A1B both map to C1; A2 → C2, A3 → C3, A5 → C5):
- survey: R-0 (A1, 2025-02-01: SOLUTION_COMPLEXITY 5) and R-1 (A1B, 2025-10-15: TECHNICAL_CAPABILITY
  5 and 4, DIGITAL_ADOPTION 3, GROWTH_APPETITE 5); R-1 is C1's newest, so R-0 is never consulted.
- activities: C1 QBR 2025-10-15 and MEETING 2025-11-20 attended, CALL 2025-12-01; C2 MEETING
  2025-07-01 not attended; C3 SITE_VISIT 2025-05-01 attended; C5 QBR 2025-12-15 attended.
- opportunities (newest version wins): O-1 C1 created 2025-03-01 STRATEGIC 1000; O-2 C1 created
  2025-09-01, first PERSONAL 5000 (2025-09-01), re-extracted as TACTICAL 1000 (2025-10-01); O-3 C2
  created 2025-05-01 PERSONAL 300; O-4 C2 created 2025-06-01 no driver 100; O-5 C3 created
  2025-08-01 TACTICAL 200, an UPSELL won on 2025-10-01.
PSA: company 1 → C1 (tickets 2025-08: MONITORING and PHONE), company 3 → C3 (ticket 2025-06:
MONITORING).
"""

# ruff: noqa: E501  (tables of fixture rows and expected values read best one row per line)

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal as D

from tests.support.warehouse import Batch

FAMILY_ITEMS = {"HARDWARE": "I-HW", "PERIPHERALS": "I-PE", "SOFTWARE": "I-SW", "CLOUD": "I-CL",
                "SERVICES": "I-SV"}


def customer(no, name, group="VAR"):
    return {"customer_no": no, "customer_name": name, "customer_group": group, "country": "US",
            "currency": "USD", "payment_terms_days": 30, "credit_limit_lcy": D("50000.00"),
            "created_date": date(2020, 1, 1), "status": "ACTIVE", "parent_customer_no": None}


def item(family):
    return {"item_no": FAMILY_ITEMS[family], "description": family.title(), "vendor_name": "Vendor",
            "product_family": family, "category": family.title(), "unit_of_measure": "EA",
            "is_stocked": True}


def line(doc, no, posting, customer_no, family, net, cost, order, channel, doc_type="INVOICE", reason=None):
    return {"document_type": doc_type, "document_no": doc, "line_no": no, "posting_date": posting,
            "order_no": order, "customer_no": customer_no, "item_no": FAMILY_ITEMS[family],
            "quantity": D("1"), "unit_price": D(net), "line_discount_amount": D("0"), "net_amount": D(net),
            "currency": "USD", "cost_amount_lcy": D(cost), "order_channel": channel, "is_drop_ship": False,
            "warehouse_code": "W1", "return_reason": reason}


def account(account_id, customer_no):
    return {"account_id": account_id, "account_name": f"Account {account_id}", "erp_customer_no": customer_no,
            "industry": None, "employee_count": None, "owner_role": "ACCOUNT_MANAGER",
            "created_date": date(2020, 1, 1), "is_deleted": False}


def activity(no, account_id, day, kind, attended):
    return {"activity_id": no, "account_id": account_id, "activity_date": day, "activity_type": kind,
            "duration_minutes": 30, "owner_role": "ACCOUNT_MANAGER", "customer_attended": attended}


def opportunity(no, account_id, created, close, stage, amount, deal_type, driver, modified):
    return {"opportunity_id": no, "account_id": account_id, "created_date": created, "close_date": close,
            "stage": stage, "amount": D(amount), "currency": "USD", "product_family": "SOFTWARE",
            "deal_type": deal_type, "need_driver": driver,
            "last_modified_at": dt.datetime.combine(modified, dt.time(12, 0), tzinfo=dt.UTC)}


def answer(response, account_id, day, question, dimension, score):
    return {"response_id": response, "account_id": account_id, "survey_id": "S-1", "response_date": day,
            "question_code": question, "dimension": dimension, "score": score}


def ticket(ticket_id, company_id, day, source):
    return {"ticket_id": ticket_id, "company_id": company_id, "agreement_id": None, "board": "HELPDESK",
            "priority": "P3", "source": source,
            "created_at": dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC), "closed_at": None,
            "sla_met": None}


def company(company_id, customer_no):
    return {"company_id": company_id, "company_identifier": f"CO{company_id}", "company_name": f"Company {company_id}",
            "crm_account_id": None, "erp_customer_no": customer_no, "status": "ACTIVE"}


def batches_by_month(system, entity, rows, date_key):
    """Transactional rows grouped into their batch months (the month of their `date_key` column)."""
    months: dict[str, list] = {}
    for row in rows:
        months.setdefault(row[date_key].strftime("%Y-%m"), []).append(row)
    return [Batch(system, entity, month, month_rows) for month, month_rows in sorted(months.items())]


SALES = [
    line("INV-101", 1, date(2025, 1, 10), "C1", "HARDWARE", "1000", "700", "SO-101", "EDI"),
    line("INV-401", 1, date(2025, 1, 20), "C4", "HARDWARE", "100", "60", "SO-401", "PHONE"),
    line("INV-201", 1, date(2025, 3, 5), "C2", "HARDWARE", "800", "850", "SO-201", "PHONE"),
    line("INV-301", 1, date(2025, 4, 2), "C3", "SERVICES", "100", "20", "SO-301", "API"),
    line("INV-302", 1, date(2025, 5, 2), "C3", "SERVICES", "100", "20", "SO-302", "API"),
    line("INV-102", 1, date(2025, 6, 3), "C1", "SOFTWARE", "500", "200", "SO-102", "PORTAL"),
    line("INV-102", 2, date(2025, 6, 3), "C1", "CLOUD", "500", "250", "SO-102", "PORTAL"),
    line("INV-901", 1, date(2025, 6, 9), "CX", "HARDWARE", "5000", "100", "SO-901", "PHONE"),
    line("INV-303", 1, date(2025, 7, 7), "C3", "PERIPHERALS", "100", "60", "SO-303", "API"),
    line("INV-202", 1, date(2025, 9, 15), "C2", "PERIPHERALS", "400", "420", "SO-202", "EMAIL"),
    line("INV-304", 1, date(2025, 11, 4), "C3", "PERIPHERALS", "100", "60", "SO-303", "API"),
    line("CM-301", 1, date(2025, 11, 20), "C3", "PERIPHERALS", "50", "30", None, "API", doc_type="CREDIT_MEMO",
         reason="WRONG_ITEM"),
    line("INV-103", 1, date(2026, 1, 12), "C1", "HARDWARE", "600", "420", "SO-103", "PHONE"),
    line("INV-501", 1, date(2026, 1, 14), "C5", "CLOUD", "900", "300", "SO-501", "API"),
]

ACTIVITIES = [
    activity("ACT-1", "A1", date(2025, 10, 15), "QBR", True),
    activity("ACT-2", "A1B", date(2025, 11, 20), "MEETING", True),
    activity("ACT-3", "A1", date(2025, 12, 1), "CALL", None),
    activity("ACT-4", "A2", date(2025, 7, 1), "MEETING", False),
    activity("ACT-5", "A3", date(2025, 5, 1), "SITE_VISIT", True),
    activity("ACT-6", "A5", date(2025, 12, 15), "QBR", True),
]

OPPORTUNITIES = [
    opportunity("O-1", "A1", date(2025, 3, 1), date(2025, 12, 31), "PROPOSAL", "1000", "NEW_BUSINESS",
                "STRATEGIC", date(2025, 3, 1)),
    opportunity("O-2", "A1", date(2025, 9, 1), date(2026, 3, 31), "PROSPECTING", "5000", "NEW_BUSINESS",
                "PERSONAL", date(2025, 9, 1)),
    opportunity("O-2", "A1", date(2025, 9, 1), date(2026, 3, 31), "QUALIFICATION", "1000", "NEW_BUSINESS",
                "TACTICAL", date(2025, 10, 1)),
    opportunity("O-3", "A2", date(2025, 5, 1), date(2025, 8, 31), "CLOSED_LOST", "300", "NEW_BUSINESS",
                "PERSONAL", date(2025, 5, 1)),
    opportunity("O-4", "A2", date(2025, 6, 1), date(2025, 9, 30), "CLOSED_LOST", "100", "RENEWAL", None,
                date(2025, 6, 1)),
    opportunity("O-5", "A3", date(2025, 8, 1), date(2025, 10, 1), "CLOSED_WON", "200", "UPSELL", "TACTICAL",
                date(2025, 10, 1)),
]

ANSWERS = [
    answer("R-0", "A1", date(2025, 2, 1), "SC1", "SOLUTION_COMPLEXITY", 5),
    answer("R-1", "A1B", date(2025, 10, 15), "TC1", "TECHNICAL_CAPABILITY", 5),
    answer("R-1", "A1B", date(2025, 10, 15), "TC2", "TECHNICAL_CAPABILITY", 4),
    answer("R-1", "A1B", date(2025, 10, 15), "DA1", "DIGITAL_ADOPTION", 3),
    answer("R-1", "A1B", date(2025, 10, 15), "GA1", "GROWTH_APPETITE", 5),
]

TICKETS = [
    ticket(1, 1, date(2025, 8, 4), "MONITORING"),
    ticket(2, 1, date(2025, 8, 5), "PHONE"),
    ticket(3, 3, date(2025, 6, 6), "MONITORING"),
]

BATCHES = [
    Batch("erp", "customers", "2026-01", [
        customer("C1", "Alpha"), customer("C2", "Beta", "MSP"), customer("C3", "Gamma"),
        customer("C4", "Delta"), customer("C5", "Epsilon"),
    ]),
    Batch("erp", "items", "2026-01", [item(f) for f in FAMILY_ITEMS]),
    *batches_by_month("erp", "sales_lines", SALES, "posting_date"),
    Batch("erp", "shipments", "2025-06", [
        {"shipment_no": "SH-1", "order_no": "SO-102", "customer_no": "C1", "ship_date": date(2025, 6, 4),
         "service_level": "STANDARD", "carrier": "UPS", "packages": 1, "weight_kg": D("5.0"),
         "freight_cost_lcy": D("30.00"), "freight_charged_lcy": D("10.00")},
    ]),
    Batch("crm", "accounts", "2026-01", [
        account("A1", "C1"), account("A1B", "C1"), account("A2", "C2"), account("A3", "C3"), account("A5", "C5"),
    ]),
    *batches_by_month("crm", "activities", ACTIVITIES, "activity_date"),
    *batches_by_month("crm", "opportunities", OPPORTUNITIES, "last_modified_at"),
    *batches_by_month("crm", "survey_responses", ANSWERS, "response_date"),
    Batch("psa", "companies", "2026-01", [company(1, "C1"), company(3, "C3")]),
    *batches_by_month("psa", "tickets", TICKETS, "created_at"),
]

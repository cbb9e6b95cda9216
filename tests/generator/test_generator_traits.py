"""The traits that make the methodology meaningful are in the data, each checked exactly."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

from orchestration.generator import generate
from orchestration.generator.population import UNKNOWN_CUSTOMER

DIGITAL = {"EDI", "API", "PORTAL"}
CENT = Decimal("0.01")


def lines_of(rows):
    return rows[("erp", "sales_lines")]


def signed_lcy(line, rates):
    amount = line["net_amount"] * rates[(line["_batch"], line["currency"])]
    return amount if line["document_type"] == "INVOICE" else -amount


def test_several_billing_currencies_with_a_rate_every_month(rows, newest, summary):
    fx = rows[("erp", "fx_rates")]
    by_month = defaultdict(set)
    for r in fx:
        by_month[r["_batch"]].add(r["currency"])
        assert r["period_end"].strftime("%Y-%m") == r["_batch"]
        assert Decimal("0.5") < r["rate_to_lcy"] < Decimal("1.6")
    assert by_month == {m: {"EUR", "GBP", "CAD"} for m in summary.months}  # USD (LCY) is omitted
    assert len({r["rate_to_lcy"] for r in fx if r["currency"] == "EUR"}) == len(summary.months)  # rates move
    assert {c["currency"] for c in newest[("erp", "customers")]} == {"USD", "EUR", "GBP", "CAD"}
    assert {r["currency"] for r in lines_of(rows)} == {"USD", "EUR", "GBP", "CAD"}
    currency_of = {c["customer_no"]: c["currency"] for c in newest[("erp", "customers")]}
    for line in lines_of(rows):
        if line["customer_no"] != UNKNOWN_CUSTOMER:
            assert line["currency"] == currency_of[line["customer_no"]]


def test_credit_memos_of_both_kinds(rows):
    memos = [r for r in lines_of(rows) if r["document_type"] == "CREDIT_MEMO"]
    reasons = Counter(r["return_reason"] for r in memos)
    assert set(reasons) == {"DEFECTIVE", "WRONG_ITEM", "NOT_NEEDED", "PRICE_ADJUSTMENT"}
    for r in memos:
        if r["return_reason"] == "PRICE_ADJUSTMENT":
            assert r["cost_amount_lcy"] == 0
        else:
            assert r["cost_amount_lcy"] > 0  # the goods come back at cost
    assert any(r["order_no"] is None for r in memos) and any(r["order_no"] for r in memos)
    assert sum(r["order_no"] is None for r in memos) > len(memos) / 2  # empty on most credit memos
    invoices = [r for r in lines_of(rows) if r["document_type"] == "INVOICE"]
    assert len(memos) < len(invoices) / 10


def test_rebate_claims_in_every_status(rows):
    claims = rows[("erp", "rebate_claims")]
    assert {c["status"] for c in claims} == {"SUBMITTED", "APPROVED", "REJECTED", "PAID"}
    invoice_docs = {r["document_no"] for r in lines_of(rows) if r["document_type"] == "INVOICE"}
    with_doc = [c for c in claims if c["document_no"]]
    assert all(c["document_no"] in invoice_docs for c in with_doc)
    assert any(c["document_no"] and c["item_no"] is None for c in claims)  # a claim on a whole invoice
    assert any(c["document_no"] is None and c["item_no"] is None for c in claims)  # volume rebate
    assert all(c["rebate_amount_lcy"] > 0 for c in claims)


def test_drop_shipments(rows, newest):
    stocked = {i["item_no"]: i["is_stocked"] for i in newest[("erp", "items")]}
    assert set(stocked.values()) == {True, False}
    lines = lines_of(rows)
    for r in lines:
        if not stocked[r["item_no"]]:
            assert r["is_drop_ship"] is True and r["warehouse_code"] is None
    assert any(r["is_drop_ship"] and stocked[r["item_no"]] for r in lines)  # stocked, sent by the vendor
    assert any(not r["is_drop_ship"] for r in lines)
    # a shipment leaves a warehouse: its order has a line that is not drop-shipped
    shipped_orders = {
        r["order_no"] for r in lines if r["document_type"] == "INVOICE" and not r["is_drop_ship"]
    }
    shipments = rows[("erp", "shipments")]
    assert shipments and all(s["order_no"] in shipped_orders for s in shipments)
    drop_only = {r["order_no"] for r in lines if r["document_type"] == "INVOICE"} - shipped_orders
    assert drop_only and not drop_only & {s["order_no"] for s in shipments}


def _accounts(newest):
    return {a["account_id"]: a for a in newest[("crm", "accounts")]}


def test_psa_company_mapped_only_through_its_crm_account(newest):
    customers = {c["customer_no"] for c in newest[("erp", "customers")]}
    accounts = _accounts(newest)
    via_crm = [
        c
        for c in newest[("psa", "companies")]
        if c["erp_customer_no"] is None
        and c["crm_account_id"]
        and not accounts[c["crm_account_id"]]["is_deleted"]
        and accounts[c["crm_account_id"]]["erp_customer_no"] in customers
    ]
    assert via_crm
    stale = [
        c
        for c in newest[("psa", "companies")]
        if c["erp_customer_no"]
        and c["erp_customer_no"] not in customers
        and c["crm_account_id"]
        and accounts[c["crm_account_id"]]["erp_customer_no"] in customers
    ]
    assert stale and all(c["erp_customer_no"].startswith("L") for c in stale)


def test_psa_companies_mapped_to_nothing_have_work(rows, newest):
    customers = {c["customer_no"] for c in newest[("erp", "customers")]}
    accounts = _accounts(newest)

    def resolves(c):
        if c["erp_customer_no"] in customers:
            return True
        a = accounts.get(c["crm_account_id"])
        return bool(a and not a["is_deleted"] and a["erp_customer_no"] in customers)

    unmapped = {c["company_id"] for c in newest[("psa", "companies")] if not resolves(c)}
    assert len(unmapped) >= 2
    assert unmapped & {t["company_id"] for t in rows[("psa", "tickets")]}
    assert unmapped & {t["company_id"] for t in rows[("psa", "time_entries")]}
    assert all(
        c["erp_customer_no"] in customers or c["erp_customer_no"] is None or c["crm_account_id"]
        for c in newest[("psa", "companies")]
    )


def test_several_crm_accounts_for_one_customer(newest):
    live = Counter(
        a["erp_customer_no"]
        for a in newest[("crm", "accounts")]
        if a["erp_customer_no"] and not a["is_deleted"]
    )
    assert max(live.values()) >= 2
    customers = {c["customer_no"] for c in newest[("erp", "customers")]}
    assert set(live) <= customers
    assert any(a["erp_customer_no"] is None for a in newest[("crm", "accounts")])  # prospects


def test_soft_deleted_accounts_stay_in_the_extract(rows, newest, summary):
    deleted = {a["account_id"] for a in newest[("crm", "accounts")] if a["is_deleted"]}
    assert deleted
    assert all(a["erp_customer_no"] for a in newest[("crm", "accounts")] if a["is_deleted"])
    first = {
        a["account_id"]: a["is_deleted"]
        for a in rows[("crm", "accounts")]
        if a["_batch"] == summary.months[0]
    }
    assert any(first.get(a) is False for a in deleted)  # deleted during the period
    assert deleted & {a["account_id"] for a in rows[("crm", "activities")]}  # with history on them


def test_opportunities_re_extracted_with_later_versions(rows):
    versions = defaultdict(list)
    for o in rows[("crm", "opportunities")]:
        versions[o["opportunity_id"]].append(o)
    again = {k: v for k, v in versions.items() if len(v) >= 2}
    assert len(again) >= 5
    for vs in again.values():
        vs.sort(key=lambda o: o["_batch"])
        stamps = [o["last_modified_at"] for o in vs]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert len({o["_batch"] for o in vs}) == len(vs)
        assert len({o["created_date"] for o in vs}) == 1
    assert any(v[-1]["stage"] != v[0]["stage"] and v[-1]["amount"] != v[0]["amount"] for v in again.values())
    stages = {o["stage"] for o in rows[("crm", "opportunities")]}
    assert {"CLOSED_WON", "CLOSED_LOST", "PROSPECTING"} <= stages
    drivers = Counter(o["need_driver"] for o in rows[("crm", "opportunities")])
    assert set(drivers) == {"STRATEGIC", "TACTICAL", "PERSONAL", None}


def test_customers_join_and_churn(rows, newest, summary):
    first = {c["customer_no"] for c in rows[("erp", "customers")] if c["_batch"] == summary.months[0]}
    last = {c["customer_no"]: c for c in newest[("erp", "customers")]}
    joined = set(last) - first
    assert len(joined) >= 2
    months_bought = defaultdict(set)
    for r in lines_of(rows):
        months_bought[r["customer_no"]].add(r["_batch"])
    for c in joined:
        created = last[c]["created_date"].strftime("%Y-%m")
        assert created > summary.months[0]
        assert min(months_bought[c]) >= created
    # churn: customers that bought, stopped, and were closed or blocked during the period
    closed_from = {}
    for c in rows[("erp", "customers")]:
        if c["status"] != "ACTIVE":
            closed_from[c["customer_no"]] = min(closed_from.get(c["customer_no"], "9999"), c["_batch"])
    churned = [c for c, month in closed_from.items() if month > summary.months[0]]
    assert all(last[c]["status"] in ("CLOSED", "BLOCKED") for c in churned)
    assert all(max(months_bought[c], default="") < closed_from[c] for c in churned)
    assert sum(bool(months_bought[c]) for c in churned) >= 2  # bought during the period, then stopped
    assert first <= set(last)  # nobody leaves the snapshot


def test_seasonality_in_monthly_revenue(tmp_path):
    """Q4 peaks and the August dip. Measured on 500 customers: 40 are too few for a monthly total."""
    root = tmp_path / "season"
    generate(root, customers=500, months=14, end_month="2025-12", seed=7)
    rates = {}
    for path in root.glob("erp/fx_rates/*/part-0001.csv"):
        for r in csv.DictReader(path.open(encoding="utf-8")):
            rates[(path.parent.name, r["currency"])] = Decimal(r["rate_to_lcy"])
    revenue = defaultdict(Decimal)
    for path in root.glob("erp/sales_lines/*/part-0001.csv"):
        month = path.parent.name
        for r in csv.DictReader(path.open(encoding="utf-8")):
            amount = Decimal(r["net_amount"]) * rates.get((month, r["currency"]), Decimal(1))
            revenue[month] += amount if r["document_type"] == "INVOICE" else -amount
    assert len(revenue) == 14
    assert min(revenue, key=revenue.get) == "2025-08"
    assert max(revenue, key=revenue.get) == "2025-12"
    assert revenue["2025-12"] > Decimal("1.6") * revenue["2025-08"]
    q4 = sum(revenue[m] for m in ("2025-10", "2025-11", "2025-12"))
    q3 = sum(revenue[m] for m in ("2025-07", "2025-08", "2025-09"))
    assert q4 > Decimal("1.2") * q3


def test_surveys_for_most_but_not_all_customers(rows, newest):
    answers = rows[("crm", "survey_responses")]
    accounts = _accounts(newest)
    responses = defaultdict(list)
    for a in answers:
        responses[a["response_id"]].append(a)
    customers_answering = {accounts[v[0]["account_id"]]["erp_customer_no"] for v in responses.values()}
    steady = {c["customer_no"] for c in newest[("erp", "customers")] if c["created_date"].year < 2024}
    share = len(customers_answering & steady) / len(steady)
    assert 0.6 <= share < 1.0
    dims = {
        "TECHNICAL_CAPABILITY",
        "DIGITAL_ADOPTION",
        "SOLUTION_COMPLEXITY",
        "IT_STANDARDIZATION",
        "GROWTH_APPETITE",
    }
    assert {a["dimension"] for a in answers} == dims
    assert {a["score"] for a in answers} == {1, 2, 3, 4, 5}
    complete = [v for v in responses.values() if {a["dimension"] for a in v} == dims]
    partial = [v for v in responses.values() if {a["dimension"] for a in v} != dims]
    assert complete and partial
    assert all(len({a["dimension"] for a in v}) == 4 for v in partial)
    for v in responses.values():
        assert len({(a["account_id"], a["survey_id"], a["response_date"]) for a in v}) == 1
        assert all(a["question_code"][:2] == a["dimension"][0] + a["dimension"].split("_")[1][0] for a in v)


def test_ledger_matches_the_lines_except_the_planted_journal(rows, rates, summary):
    gl = defaultdict(Decimal)
    for g in rows[("erp", "gl_balances")]:
        gl[(g["_batch"], g["account_category"])] += g["amount_lcy"]
    lines = defaultdict(Decimal)
    for r in lines_of(rows):
        lines[(r["_batch"], "REVENUE")] += signed_lcy(r, rates)
        sign = 1 if r["document_type"] == "INVOICE" else -1
        lines[(r["_batch"], "COGS")] += sign * r["cost_amount_lcy"]
    for c in rows[("erp", "rebate_claims")]:
        if c["status"] in ("APPROVED", "PAID"):
            lines[(c["_batch"], "REBATE_INCOME")] += c["rebate_amount_lcy"]
    for t in rows[("psa", "time_entries")]:
        if t["billable"]:
            lines[(t["_batch"], "SERVICES_COST")] += t["hours"] * t["hourly_cost_lcy"]
    for s in rows[("erp", "shipments")]:
        lines[(s["_batch"], "FREIGHT_COST")] += s["freight_cost_lcy"]
        lines[(s["_batch"], "FREIGHT_RECOVERY")] += s["freight_charged_lcy"]
    (planted,) = summary.planted_differences
    assert planted.line_item == "REVENUE" and Decimal(2500) <= planted.amount_lcy <= Decimal(7500)
    assert planted.month in summary.months[1:-1]
    for month in summary.months:
        for item in ("REVENUE", "COGS", "REBATE_INCOME", "SERVICES_COST", "FREIGHT_COST", "FREIGHT_RECOVERY"):
            pipeline = lines[(month, item)].quantize(CENT, rounding=ROUND_HALF_UP)  # half away from 0
            extra = planted.amount_lcy if (month, item) == (planted.month, planted.line_item) else 0
            assert gl[(month, item)] - extra == pipeline, (month, item)  # to the cent
            assert lines[(month, item)] > 0
    planted_rows = [g for g in rows[("erp", "gl_balances")] if g["account_code"] == planted.account_code]
    assert [(g["_batch"], g["amount_lcy"]) for g in planted_rows] == [(planted.month, planted.amount_lcy)]


def test_ledger_has_every_cost_pool_and_overheads(rows, summary):
    pools = defaultdict(set)
    other = Counter()
    for g in rows[("erp", "gl_balances")]:
        if g["account_category"] == "COST_POOL":
            pools[g["_batch"]].add(g["cost_pool"])
            assert g["amount_lcy"] > 0
        if g["account_category"] == "OTHER":
            other[g["_batch"]] += 1
    six = {"ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS"}
    assert pools == {m: six for m in summary.months}
    assert all(other[m] >= 3 for m in summary.months)


def test_personas_are_distinguishable(rows, personas, rates, newest):
    revenue, margin, hours, months_bought = (
        defaultdict(Decimal),
        defaultdict(Decimal),
        defaultdict(Decimal),
        defaultdict(set),
    )
    digital, invoice_lines = Counter(), Counter()
    for r in lines_of(rows):
        p = personas.get(r["customer_no"])
        if p is None:
            continue
        net = signed_lcy(r, rates)
        revenue[r["customer_no"]] += net
        margin[p] += net - (
            r["cost_amount_lcy"] if r["document_type"] == "INVOICE" else -r["cost_amount_lcy"]
        )
        if r["document_type"] == "INVOICE":
            invoice_lines[p] += 1
            digital[p] += r["order_channel"] in DIGITAL
            months_bought[r["customer_no"]].add(r["_batch"])
    companies = {c["company_id"]: c["erp_customer_no"] for c in newest[("psa", "companies")]}
    for t in rows[("psa", "time_entries")]:
        if not t["billable"] and companies.get(t["company_id"]) in personas:
            hours[companies[t["company_id"]]] += t["hours"]

    def mean(values, p):
        members = [c for c, q in personas.items() if q == p]
        return sum(values.get(c, 0) for c in members) / len(members)

    rev = {p: mean(revenue, p) for p in set(personas.values())}
    assert min(rev["LARGE_EFFICIENT"], rev["LARGE_HIGH_SERVICE"]) > 5 * max(
        rev["SMALL_SPORADIC"], rev["SMALL_COSTLY"]
    )
    support = {p: mean(hours, p) for p in set(personas.values())}
    assert support["LARGE_HIGH_SERVICE"] > 3 * support["LARGE_EFFICIENT"]
    assert support["SMALL_COSTLY"] > 3 * support["SMALL_SPORADIC"]
    share = {p: digital[p] / invoice_lines[p] for p in invoice_lines}
    assert (
        share["LARGE_EFFICIENT"] > 0.85 and share["LARGE_HIGH_SERVICE"] < 0.3 and share["SMALL_COSTLY"] < 0.25
    )
    assert share["SMALL_SPORADIC"] > 0.6
    margin_pct = {
        p: margin[p] / sum(revenue[c] for c, q in personas.items() if q == p) for p in invoice_lines
    }
    assert margin_pct["SMALL_SPORADIC"] > margin_pct["LARGE_EFFICIENT"] > margin_pct["LARGE_HIGH_SERVICE"]
    bought = {
        p: mean({c: len(v) for c, v in months_bought.items()} | {}, p)
        for p in ("SMALL_SPORADIC", "SMALL_COSTLY")
    }
    assert bought["SMALL_SPORADIC"] < bought["SMALL_COSTLY"]


def test_digital_and_manual_customers(rows):
    per_customer = defaultdict(Counter)
    for r in lines_of(rows):
        if r["document_type"] == "INVOICE":
            per_customer[r["customer_no"]][r["order_channel"] in DIGITAL] += 1
    assert {r["order_channel"] for r in lines_of(rows)} == {"EDI", "API", "PORTAL", "EMAIL", "PHONE"}
    shares = [c[True] / (c[True] + c[False]) for c in per_customer.values() if sum(c.values()) >= 10]
    assert sum(s >= 0.8 for s in shares) >= 5 and sum(s <= 0.2 for s in shares) >= 5


def test_payments_mostly_on_time_some_late_a_few_unknown(rows):
    payments = rows[("erp", "payments")]
    invoices = defaultdict(Decimal)
    for r in lines_of(rows):
        if r["document_type"] == "INVOICE":
            invoices[r["document_no"]] += r["net_amount"]
    late = [p for p in payments if p["payment_date"] > p["due_date"]]
    assert 0.1 < len(late) / len(payments) < 0.5
    unknown = [p for p in payments if p["document_no"] not in invoices]
    assert 1 <= len(unknown) <= 0.05 * len(payments)
    for p in payments:
        if p["document_no"] in invoices:
            assert p["amount"] == invoices[p["document_no"]]  # paid in full
    per_payment = Counter(p["payment_no"] for p in payments)
    assert max(per_payment.values()) >= 2  # one payment settling several invoices


def test_time_entries_billable_and_not(rows):
    entries = rows[("psa", "time_entries")]
    billable = [t for t in entries if t["billable"]]
    other = [t for t in entries if not t["billable"]]
    assert billable and other
    assert all(t["hourly_rate"] > 0 for t in billable) and all(t["hourly_rate"] is None for t in other)
    assert all(0 < t["hours"] <= 24 and t["hourly_cost_lcy"] > 0 for t in entries)
    assert any(t["ticket_id"] is None for t in entries) and any(t["ticket_id"] for t in entries)
    tickets = {t["ticket_id"] for t in rows[("psa", "tickets")]}
    assert all(t["ticket_id"] in tickets for t in entries if t["ticket_id"])


def test_tickets_from_every_source(rows):
    tickets = rows[("psa", "tickets")]
    assert {t["source"] for t in tickets} == {"PHONE", "EMAIL", "PORTAL", "MONITORING"}
    assert {t["board"] for t in tickets} == {"HELPDESK", "PRE_SALES", "RMA", "ORDER_STATUS", "PROJECTS"}
    assert any(t["closed_at"] is None for t in tickets) and {t["sla_met"] for t in tickets} == {
        True,
        False,
        None,
    }
    assert any(t["agreement_id"] is None for t in tickets) and any(t["agreement_id"] for t in tickets)


def test_activities_attended_only_for_meetings(rows):
    acts = rows[("crm", "activities")]
    meeting = {"MEETING", "QBR", "SITE_VISIT", "TRAINING", "WEBINAR"}
    assert {a["activity_type"] for a in acts} == meeting | {"CALL", "EMAIL"}
    assert {a["customer_attended"] for a in acts if a["activity_type"] in meeting} == {True, False}
    assert {a["customer_attended"] for a in acts if a["activity_type"] not in meeting} == {None}


def test_every_erp_customer_is_known_but_the_planted_unknown_one(rows, newest, summary):
    known = {c["customer_no"] for c in newest[("erp", "customers")]}
    (unknown,) = summary.unknown_customer_rows
    assert unknown.customer_no == UNKNOWN_CUSTOMER not in known
    for entity in ("sales_lines", "shipments", "rebate_claims", "payments"):
        for r in rows[("erp", entity)]:
            if r["customer_no"] not in known:
                assert entity == "sales_lines" and r["customer_no"] == UNKNOWN_CUSTOMER
    strays = [r for r in lines_of(rows) if r["customer_no"] == UNKNOWN_CUSTOMER]
    assert len(strays) == unknown.lines and {r["_batch"] for r in strays} == {unknown.month}
    assert {r["document_no"] for r in strays} == {unknown.document_no}
    assert sum(r["net_amount"] for r in strays) == unknown.net_amount_lcy
    for c in newest[("erp", "customers")]:
        assert c["parent_customer_no"] is None or c["parent_customer_no"] in known
    assert all(a["erp_customer_no"] in known for a in newest[("crm", "accounts")] if a["erp_customer_no"])


def test_orders_split_over_two_invoices(rows):
    docs_per_order = defaultdict(set)
    for r in lines_of(rows):
        if r["document_type"] == "INVOICE":
            docs_per_order[r["order_no"]].add(r["document_no"])
    assert any(len(d) == 2 for d in docs_per_order.values())


def test_sales_lines_sort_the_same_as_text(landing, summary):
    """Rows are in key order, and the key's text sorts the same way (line numbers 10000 … 90000)."""
    for month in summary.months:
        path = landing / "erp" / "sales_lines" / month / "part-0001.csv"
        keys = [(r["document_no"], r["line_no"]) for r in csv.DictReader(path.open(encoding="utf-8"))]
        assert keys == sorted(keys)
        assert len({line for _, line in keys} - {str(k * 10000) for k in range(1, 10)}) == 0

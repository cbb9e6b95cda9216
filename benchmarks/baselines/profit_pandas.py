"""Baseline (b), "what an analyst would write": fct_customer_profit_monthly in pandas from the CSVs.

    python -m benchmarks.baselines.profit_pandas --landing DIR --out fct.parquet

Reads every month's CSV of the entities the fact needs with `pandas.read_csv` (only the columns it
uses, low-cardinality codes as categories), then groups and merges as methodology §1-4 says, in
vectorised pandas (no Python loop over rows). Money is float64, as an analyst's notebook has it;
published columns are rounded to cents half away from zero. The business settings are
assets/core/strata.yml's defaults, written in (as in profit_duckdb.sql). It keeps no audit,
applies no row rules and does not dedupe keys delivered in two batches (the generated data has none).

This is a second, independent implementation of methodology §1-4 ON PURPOSE: the benchmark compares
its fact with the pipeline's, so a rule that drifts in the dbt models shows up as a difference here.
It must not import or call the pipeline's rules (docs/architecture.md: "Where each methodology
section lives" lists it as the one deliberate copy).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

LCY = "USD"
UNASSIGNED = "UNASSIGNED"
CHANNEL_WEIGHTS = {"PHONE": 1.0, "EMAIL": 1.0, "PORTAL": 0.3, "API": 0.1, "EDI": 0.1}
LATE_PAYMENT_WEIGHT = 5
RECEIVABLES_RATE = 0.08
DAYS_PER_YEAR = 365
POOLS = ["ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS"]
KEY = ["month", "customer_no"]
MEASURES = [
    "gross_sales",
    "credits",
    "net_revenue",
    "cogs",
    "rebate_income",
    "services_cost",
    "gross_margin",
    "cts_order_entry",
    "cts_warehouse",
    "cts_returns",
    "cts_sales_coverage",
    "cts_support_desk",
    "cts_credit_collections",
    "cts_net_freight",
    "cts_receivables_carrying",
    "cost_to_serve",
    "contribution_margin",
]


def read(
    landing: Path, entity: str, columns: dict[str, str], dates: list[str] = (), newest_only: bool = False
) -> pd.DataFrame:
    """Every month's CSV of `entity` (or only the newest month's, for a snapshot), stacked."""
    folders = sorted(p for p in (landing / entity).iterdir() if p.is_dir())
    if newest_only:
        folders = folders[-1:]
    frames = [
        pd.read_csv(
            f,
            usecols=list(columns),
            dtype={c: t for c, t in columns.items() if t != "date"},
            keep_default_na=False,
            na_values=[""],
        )
        for folder in folders
        for f in sorted(folder.glob("*.csv"))
    ]
    df = pd.concat(frames, ignore_index=True)
    for c in dates:
        df[c] = pd.to_datetime(df[c], format="%Y-%m-%d")
    return df


def month_of(dates: pd.Series) -> pd.Series:
    return dates.dt.to_period("M")


def resolve(codes: pd.Series, known: pd.Index) -> pd.Series:
    return codes.where(codes.isin(known), UNASSIGNED).astype(object)


def to_lcy(df: pd.DataFrame, amount: str, rates: pd.DataFrame) -> pd.Series:
    merged = df[["month", "currency"]].merge(rates, on=["month", "currency"], how="left")
    rate = merged["rate"].to_numpy()
    return pd.Series(
        np.where(df["currency"].to_numpy() == LCY, df[amount].to_numpy(), df[amount].to_numpy() * rate),
        index=df.index,
    )


def round_cents(x: pd.Series) -> pd.Series:
    """Half away from zero, to cents (numpy's round is half to even). Quarter hours × hourly cost and
    6-decimal fx rates make exact half cents common; the float sum lands a hair either side of them,
    so the value in cents is first rounded to 5 decimals (the float noise is far below that)."""
    return np.sign(x) * np.floor(np.round(np.abs(x) * 100, 5) + 0.5) / 100


def compute(landing: Path) -> pd.DataFrame:
    landing = Path(landing)
    # §2 customers, CRM accounts and PSA companies from the newest snapshots.
    customers = read(
        landing, "erp/customers", {"customer_no": "str", "payment_terms_days": "int64"}, newest_only=True
    )
    known = pd.Index(customers["customer_no"])
    terms = customers.set_index("customer_no")["payment_terms_days"]
    accounts = read(
        landing,
        "crm/accounts",
        {"account_id": "str", "erp_customer_no": "str", "is_deleted": "bool"},
        newest_only=True,
    )
    accounts["customer_no"] = resolve(accounts["erp_customer_no"], known)
    accounts.loc[accounts["is_deleted"], "customer_no"] = UNASSIGNED
    account_customer = accounts.set_index("account_id")["customer_no"]
    companies = read(
        landing,
        "psa/companies",
        {"company_id": "int64", "crm_account_id": "str", "erp_customer_no": "str"},
        newest_only=True,
    )
    companies["customer_no"] = (
        resolve(companies["erp_customer_no"], known)
        .where(companies["erp_customer_no"].isin(known), companies["crm_account_id"].map(account_customer))
        .fillna(UNASSIGNED)
    )
    company_customer = companies.set_index("company_id")["customer_no"]

    # §1 rates: the month's rate, the later period_end when a month has two.
    rates = read(
        landing,
        "erp/fx_rates",
        {"period_end": "date", "currency": "str", "rate_to_lcy": "float64"},
        dates=["period_end"],
    )
    rates = rates[rates["currency"] != LCY].sort_values("period_end")
    rates["month"] = month_of(rates["period_end"])
    rates = (
        rates.groupby(["month", "currency"], as_index=False)["rate_to_lcy"]
        .last()
        .rename(columns={"rate_to_lcy": "rate"})
    )

    parts: list[pd.DataFrame] = []
    units: list[pd.DataFrame] = []

    # §3 sales lines.
    lines = read(
        landing,
        "erp/sales_lines",
        {
            "document_type": "category",
            "document_no": "str",
            "posting_date": "date",
            "customer_no": "str",
            "net_amount": "float64",
            "currency": "category",
            "cost_amount_lcy": "float64",
            "order_channel": "category",
            "is_drop_ship": "bool",
            "return_reason": "category",
        },
        dates=["posting_date"],
    )
    lines["month"] = month_of(lines["posting_date"])
    lines["customer_no"] = resolve(lines["customer_no"], known)
    lines["currency"] = lines["currency"].astype(str)
    lines["net_lcy"] = to_lcy(lines, "net_amount", rates)
    invoice = (lines["document_type"] == "INVOICE").to_numpy()
    lines["gross_sales"] = np.where(invoice, lines["net_lcy"], 0.0)
    lines["credits"] = np.where(invoice, 0.0, lines["net_lcy"])
    lines["cogs"] = np.where(invoice, lines["cost_amount_lcy"], -lines["cost_amount_lcy"])
    lines["ORDER_ENTRY"] = np.where(
        invoice, lines["order_channel"].astype(str).map(CHANNEL_WEIGHTS).fillna(0), 0.0
    )
    lines["WAREHOUSE"] = (invoice & ~lines["is_drop_ship"].to_numpy()).astype("int64")
    reason = lines["return_reason"].astype(object)
    lines["RETURNS"] = (~invoice & (reason.isna() | (reason != "PRICE_ADJUSTMENT")).to_numpy()).astype(
        "int64"
    )
    grouped = lines.groupby(KEY, sort=False)
    parts.append(grouped[["gross_sales", "credits", "cogs"]].sum().reset_index())
    units.append(grouped[["ORDER_ENTRY", "WAREHOUSE", "RETURNS"]].sum().reset_index())
    invoices = lines.loc[invoice, ["month", "customer_no", "document_no", "posting_date"]]
    docs = (
        invoices.groupby(KEY, sort=False)["document_no"].nunique().rename("CREDIT_COLLECTIONS").reset_index()
    )
    units.append(docs)
    invoice_date = invoices.groupby("document_no")["posting_date"].min()
    del lines, grouped, invoices

    # Rebate income (APPROVED, PAID), services cost and support hours.
    claims = read(
        landing,
        "erp/rebate_claims",
        {"customer_no": "str", "claim_date": "date", "rebate_amount_lcy": "float64", "status": "category"},
        dates=["claim_date"],
    )
    claims = claims[claims["status"].isin(["APPROVED", "PAID"])]
    claims = claims.assign(
        month=month_of(claims["claim_date"]), customer_no=resolve(claims["customer_no"], known)
    )
    parts.append(
        claims.groupby(KEY, sort=False)["rebate_amount_lcy"].sum().rename("rebate_income").reset_index()
    )

    entries = read(
        landing,
        "psa/time_entries",
        {
            "company_id": "int64",
            "work_date": "date",
            "hours": "float64",
            "billable": "bool",
            "hourly_cost_lcy": "float64",
        },
        dates=["work_date"],
    )
    entries["month"] = month_of(entries["work_date"])
    entries["customer_no"] = entries["company_id"].map(company_customer).fillna(UNASSIGNED)
    entries["services_cost"] = np.where(
        entries["billable"], entries["hours"] * entries["hourly_cost_lcy"], 0.0
    )
    entries["SUPPORT_DESK"] = np.where(entries["billable"], 0.0, entries["hours"])
    grouped = entries.groupby(KEY, sort=False)
    parts.append(grouped["services_cost"].sum().reset_index())
    units.append(grouped["SUPPORT_DESK"].sum().reset_index())

    activities = read(
        landing,
        "crm/activities",
        {"account_id": "str", "activity_date": "date", "duration_minutes": "int64"},
        dates=["activity_date"],
    )
    activities["month"] = month_of(activities["activity_date"])
    activities["customer_no"] = activities["account_id"].map(account_customer).fillna(UNASSIGNED)
    units.append(
        activities.groupby(KEY, sort=False)["duration_minutes"].sum().rename("SALES_COVERAGE").reset_index()
    )

    # §4 direct activities: net freight and receivables carrying cost; late payments.
    shipments = read(
        landing,
        "erp/shipments",
        {
            "customer_no": "str",
            "ship_date": "date",
            "freight_cost_lcy": "float64",
            "freight_charged_lcy": "float64",
        },
        dates=["ship_date"],
    )
    shipments["month"] = month_of(shipments["ship_date"])
    shipments["customer_no"] = resolve(shipments["customer_no"], known)
    shipments["cts_net_freight"] = shipments["freight_cost_lcy"] - shipments["freight_charged_lcy"]
    parts.append(shipments.groupby(KEY, sort=False)["cts_net_freight"].sum().reset_index())

    payments = read(
        landing,
        "erp/payments",
        {
            "customer_no": "str",
            "document_no": "str",
            "due_date": "date",
            "payment_date": "date",
            "amount": "float64",
            "currency": "category",
        },
        dates=["due_date", "payment_date"],
    )
    payments["month"] = month_of(payments["payment_date"])
    payments["customer_no"] = resolve(payments["customer_no"], known)
    payments["currency"] = payments["currency"].astype(str)
    payments["amount_lcy"] = to_lcy(payments, "amount", rates)
    days_terms = payments["customer_no"].map(terms).fillna(0).astype("int64")
    invoiced = payments["document_no"].map(invoice_date)
    invoiced = invoiced.fillna(payments["due_date"] - pd.to_timedelta(days_terms, unit="D"))
    days = (payments["payment_date"] - invoiced).dt.days.clip(lower=0)
    payments["cts_receivables_carrying"] = payments["amount_lcy"] * days * RECEIVABLES_RATE / DAYS_PER_YEAR
    payments["CREDIT_COLLECTIONS"] = np.where(
        payments["payment_date"] > payments["due_date"], LATE_PAYMENT_WEIGHT, 0
    )
    grouped = payments.groupby(KEY, sort=False)
    parts.append(grouped["cts_receivables_carrying"].sum().reset_index())
    units.append(grouped["CREDIT_COLLECTIONS"].sum().reset_index())

    # §4 cost pools: GL amount / Σ units of all customers, charged by units.
    driver = (
        pd.concat(units, ignore_index=True)
        .melt(id_vars=KEY, var_name="pool", value_name="units")
        .dropna(subset=["units"])
        .groupby([*KEY, "pool"], as_index=False)["units"]
        .sum()
    )
    driver = driver[driver["units"] != 0]
    gl = read(
        landing,
        "erp/gl_balances",
        {"period_end": "date", "account_category": "str", "cost_pool": "str", "amount_lcy": "float64"},
        dates=["period_end"],
    )
    gl = gl[(gl["account_category"] == "COST_POOL") & gl["cost_pool"].notna()]
    gl = (
        gl.assign(month=month_of(gl["period_end"]))
        .rename(columns={"cost_pool": "pool"})
        .groupby(["month", "pool"], as_index=False)["amount_lcy"]
        .sum()
    )
    totals = (
        driver.groupby(["month", "pool"], as_index=False)["units"].sum().rename(columns={"units": "total"})
    )
    allocated = driver.merge(gl, on=["month", "pool"]).merge(totals, on=["month", "pool"])
    allocated["cost"] = allocated["units"] * allocated["amount_lcy"] / allocated["total"]
    allocated = allocated.pivot_table(index=KEY, columns="pool", values="cost", aggfunc="sum", observed=True)
    allocated = allocated.rename(columns={p: f"cts_{p.lower()}" for p in POOLS}).reset_index()
    parts.append(allocated)

    # §3 the waterfall: one row per month and customer with a non-zero measure; cents.
    fct = pd.concat(parts, ignore_index=True).groupby(KEY, as_index=False).sum(min_count=1)
    for m in MEASURES:
        if m not in fct:
            fct[m] = 0.0
    fct = fct.fillna(0.0)
    cts = [m for m in MEASURES if m.startswith("cts_")]
    fct["net_revenue"] = fct["gross_sales"] - fct["credits"]
    fct["gross_margin"] = fct["net_revenue"] - fct["cogs"] + fct["rebate_income"] - fct["services_cost"]
    fct["cost_to_serve"] = fct[cts].sum(axis=1)
    fct["contribution_margin"] = fct["gross_margin"] - fct["cost_to_serve"]
    base = ["gross_sales", "credits", "cogs", "rebate_income", "services_cost", *cts]
    fct = fct[(fct[base] != 0).any(axis=1)].copy()
    for m in MEASURES:
        fct[m] = round_cents(fct[m])
    fct["month"] = fct["month"].dt.to_timestamp(how="end").dt.normalize()
    return fct[[*KEY, *MEASURES]].sort_values(KEY, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where to write the fact (Parquet)")
    args = parser.parse_args()
    compute(args.landing).to_parquet(args.out, index=False)


if __name__ == "__main__":
    main()

"""Small DuckDB warehouses with the marts of docs/marts.md, for the publishing tests.

`build_marts_warehouse(path)` writes `marts.<name>` for the eight published marts (exactly the
columns and types of marts.md, in its order) and the two audit tables, filled with deterministic,
plausible numbers: a profit waterfall whose identities hold (net revenue = gross sales − credits,
…), some loss-making service drains, strata and quadrants from the configured cuts, KPIs, targets
and a reconciliation. It is not a methodology test: the segment numbers are only roughly
consistent with the facts. With `stamp=True` every table gets a last column `run_id`, which
`restamp` rewrites in place, so a reader can tell which publication a table came from.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.core.settings import Settings, load_settings
from assets.ingestion.audit import create_audit_tables

CENT = Decimal("0.01")
MONEY = "DECIMAL(18,2)"

# marts.md, column for column (types as the marts' contracts give them).
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "fct_customer_profit_monthly": [
        ("month", "DATE"),
        ("customer_no", "VARCHAR"),
        *[
            (c, MONEY)
            for c in (
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
            )
        ],
    ],
    "fct_cost_to_serve_monthly": [
        ("month", "DATE"),
        ("customer_no", "VARCHAR"),
        ("activity", "VARCHAR"),
        ("driver_units", "DECIMAL(38,12)"),
        ("rate", "DOUBLE"),
        ("cost", MONEY),
    ],
    "customer_segments": [
        ("month", "DATE"),
        ("customer_no", "VARCHAR"),
        ("customer_name", "VARCHAR"),
        ("customer_group", "VARCHAR"),
        ("net_revenue_t12m", MONEY),
        ("gross_margin_t12m", MONEY),
        ("cost_to_serve_t12m", MONEY),
        ("contribution_margin_t12m", MONEY),
        ("orders_t12m", "BIGINT"),
        ("product_families_t12m", "BIGINT"),
        ("topline_score", "DOUBLE"),
        ("profitability_score", "DOUBLE"),
        ("stratum", "VARCHAR"),
        ("profitability_quadrant", "VARCHAR"),
        ("revenue_tier", "VARCHAR"),
        ("maturity_score", "DOUBLE"),
        ("maturity_tier", "VARCHAR"),
        ("appetite_score", "DOUBLE"),
        ("maturity_segment", "VARCHAR"),
        ("needs_group", "VARCHAR"),
        ("config_version", "VARCHAR"),
    ],
    "segment_kpis": [
        ("month", "DATE"),
        ("segmentation", "VARCHAR"),
        ("segment", "VARCHAR"),
        ("customers", "BIGINT"),
        ("net_revenue", MONEY),
        ("gross_margin", MONEY),
        ("cost_to_serve", MONEY),
        ("contribution_margin", MONEY),
        ("contribution_margin_pct", "DOUBLE"),
        ("aov", MONEY),
        ("retention_rate", "DOUBLE"),
        ("upsell_cross_sell_rate", "DOUBLE"),
        ("migration_up_rate", "DOUBLE"),
        ("migration_down_rate", "DOUBLE"),
        ("changed_rate", "DOUBLE"),
        ("cltv", MONEY),
        ("aov_yoy_change", "DOUBLE"),
        ("cltv_yoy_change", "DOUBLE"),
    ],
    "segment_transitions": [
        ("month", "DATE"),
        ("segmentation", "VARCHAR"),
        ("from_segment", "VARCHAR"),
        ("to_segment", "VARCHAR"),
        ("customers", "BIGINT"),
    ],
    "kpi_target_status": [
        ("month", "DATE"),
        ("segmentation", "VARCHAR"),
        ("segment", "VARCHAR"),
        ("kpi", "VARCHAR"),
        ("value", "DOUBLE"),
        ("target_low", "DOUBLE"),
        ("target_high", "DOUBLE"),
        ("status", "VARCHAR"),
    ],
    "margin_reconciliation": [
        ("month", "DATE"),
        ("line_item", "VARCHAR"),
        ("pipeline_amount", MONEY),
        ("unassigned_amount", MONEY),
        ("unallocated_amount", MONEY),
        ("unused_capacity_amount", MONEY),
        ("gl_amount", MONEY),
        ("difference", MONEY),
        ("status", "VARCHAR"),
    ],
    "account_playbook": [
        ("customer_no", "VARCHAR"),
        ("customer_name", "VARCHAR"),
        ("month", "DATE"),
        ("stratum", "VARCHAR"),
        ("maturity_segment", "VARCHAR"),
        ("profitability_quadrant", "VARCHAR"),
        ("review_cadence", "VARCHAR"),
        ("key_initiative", "VARCHAR"),
        ("relationship_owner", "VARCHAR"),
        ("last_review_date", "DATE"),
        ("next_review_due", "DATE"),
        ("review_overdue", "BOOLEAN"),
    ],
    "clv_model_fits": [
        ("month", "DATE"),
        ("model", "VARCHAR"),
        ("customers", "BIGINT"),
        ("parameters", "VARCHAR"),
        ("log_likelihood", "DOUBLE"),
        ("converged", "BOOLEAN"),
        ("message", "VARCHAR"),
    ],
}
ARROW_TYPES = {
    "DATE": pa.date32(),
    "VARCHAR": pa.string(),
    MONEY: pa.decimal128(18, 2),
    "DECIMAL(38,12)": pa.decimal128(38, 12),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
}
# Key columns are NOT NULL (the marts' contracts), as are the waterfall's money columns.
NOT_NULL = {
    "fct_customer_profit_monthly": {c for c, _ in MART_COLUMNS["fct_customer_profit_monthly"]},
    "fct_cost_to_serve_monthly": {"month", "customer_no", "activity", "cost"},
    "customer_segments": {"month", "customer_no"},
    "segment_kpis": {"month", "segmentation", "segment"},
    "segment_transitions": {"month", "segmentation", "from_segment", "to_segment"},
    "kpi_target_status": {"month", "segmentation", "segment", "kpi", "status"},
    "margin_reconciliation": {"month", "line_item", "gl_amount", "status"},
    "account_playbook": {"customer_no"},
    "clv_model_fits": {"month", "model", "customers", "converged", "message"},
}
POOLS = ("ORDER_ENTRY", "WAREHOUSE", "RETURNS", "SALES_COVERAGE", "SUPPORT_DESK", "CREDIT_COLLECTIONS")
DIRECT = ("NET_FREIGHT", "RECEIVABLES_CARRYING")
GROUPS = ("VAR", "MSP", "CORPORATE", "EDUCATION", "PUBLIC_SECTOR")
NEEDS = ("STRATEGIC", "TACTICAL", "PERSONAL", "UNKNOWN")
SEGMENT_ORDER = {
    "stratum": ["CORE", "SERVICE_DRAIN", "OPPORTUNISTIC", "MARGINAL"],
    "profitability_quadrant": [
        "NURTURE_AND_RETAIN",
        "OPTIMIZE_AND_MOVE_RIGHT",
        "GROW_AND_MOVE_UP",
        "FIRE_OR_MOVE_RIGHT",
    ],
    "revenue_tier": ["LOW", "MEDIUM", "HIGH"],
    "maturity_tier": ["TRANSACTIONAL", "DEVELOPING", "ADVANCED", "STRATEGIC"],
    "maturity_segment": ["TRANSFORM", "MODERNIZE", "EDUCATE", "SUSTAIN"],
    "needs_group": list(NEEDS),
}


def month_ends(first: dt.date, count: int) -> list[dt.date]:
    out, y, m = [], first.year, first.month
    for _ in range(count):
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        y, m = nxt.year, nxt.month
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` months, clamped to the end of the target month."""
    m = day.month - 1 + months
    y, m = day.year + m // 12, m % 12 + 1
    return min(dt.date(y, m, 1) + dt.timedelta(days=day.day - 1), month_ends(dt.date(y, m, 1), 1)[0])


def money(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_rank(values: dict[str, float]) -> dict[str, float]:
    """SQL's percent_rank(), ascending, ties sharing the lowest rank."""
    ordered = sorted(values.values())
    n = len(ordered)
    first = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i)
    return {k: (first[v] / (n - 1) if n > 1 else 0.0) for k, v in values.items()}


def build_marts_warehouse(
    path: Path,
    *,
    customers: int = 40,
    months: int = 30,
    first_month: dt.date = dt.date(2024, 1, 1),
    seed: int = 7,
    run_id: str | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write the warehouse file `path` with every mart and audit table. `run_id` adds a stamp column."""
    settings = settings or load_settings()
    rng = random.Random(seed)
    ends = month_ends(first_month, months)
    seg_cfg = settings.segments
    first_segment = seg_cfg.first_segment_month_index - 1
    window = seg_cfg.window_months

    # -- customers and their monthly profit waterfall ------------------------------------------------
    people = []
    for i in range(1, customers + 1):
        size = rng.lognormvariate(10.5, 1.1)
        people.append(
            {
                "no": f"C{i:04d}",
                "name": f"Customer {i:04d} {rng.choice(['Systems', 'IT', 'Tech', 'Digital'])}",
                "group": rng.choice(GROUPS),
                "size": size,
                "margin": rng.uniform(0.07, 0.16),
                "cts": rng.uniform(0.01, 0.05) * (4.0 if rng.random() < 0.2 else 1.0),
                "start": 0 if rng.random() < 0.7 else rng.randrange(months),
                "stop": months if rng.random() < 0.85 else rng.randrange(months // 2, months + 1),
            }
        )
    profit = []  # rows of fct_customer_profit_monthly
    cts_rows = []
    for mi, month in enumerate(ends):
        for p in [
            *people,
            {"no": "UNASSIGNED", "size": 3000.0, "margin": 0.1, "cts": 0.01, "start": 0, "stop": months},
        ]:
            if not (p["start"] <= mi < p["stop"]) or rng.random() < 0.15:
                continue
            gross = money(p["size"] * rng.uniform(0.5, 1.5) / 12)
            credits = money(float(gross) * rng.choice([0, 0, 0.02, 0.05]))
            net = gross - credits
            cogs = money(float(net) * (1 - p["margin"]))
            rebate = money(float(net) * rng.choice([0, 0.005, 0.01]))
            services = money(float(net) * rng.choice([0, 0, 0.01]))
            gm = net - cogs + rebate - services
            parts = [money(float(net) * p["cts"] * w) for w in (0.25, 0.25, 0.05, 0.2, 0.15, 0.05)]
            parts.append(money(float(net) * rng.uniform(-0.002, 0.006)))  # net freight may be negative
            parts.append(money(float(net) * 0.002))
            cts = sum(parts, Decimal(0))
            profit.append(
                (month, p["no"], gross, credits, net, cogs, rebate, services, gm, *parts, cts, gm - cts)
            )
            for activity, cost in zip(POOLS + DIRECT, parts, strict=True):
                if activity in DIRECT:
                    cts_rows.append((month, p["no"], activity, None, None, cost))
                else:
                    units = Decimal(rng.randint(1, 400))
                    cts_rows.append((month, p["no"], activity, units, float(cost) / float(units), cost))

    # -- segments -------------------------------------------------------------------------------
    by_customer_month = {(r[1], r[0]): r for r in profit}
    names = {p["no"]: p for p in people}
    segments = []  # dicts
    for mi in range(first_segment, months):
        month = ends[mi]
        win = ends[max(0, mi - window + 1) : mi + 1]
        t12 = {}
        for p in people:
            rows = [by_customer_month[(p["no"], m)] for m in win if (p["no"], m) in by_customer_month]
            net = sum((r[4] for r in rows), Decimal(0))
            if net <= 0:
                continue
            t12[p["no"]] = {
                "net": net,
                "gm": sum((r[8] for r in rows), Decimal(0)),
                "cts": sum((r[17] for r in rows), Decimal(0)),
                "cm": sum((r[18] for r in rows), Decimal(0)),
                "orders": len(rows) * rng.randint(1, 4),
                "families": rng.randint(1, 5),
            }
        if not t12:
            continue
        pr_net = percent_rank({c: float(v["net"]) for c, v in t12.items()})
        pr_orders = percent_rank({c: v["orders"] for c, v in t12.items()})
        pr_fam = percent_rank({c: v["families"] for c, v in t12.items()})
        pr_cm = percent_rank({c: float(v["cm"]) for c, v in t12.items()})
        pr_pct = percent_rank({c: float(v["cm"] / v["net"]) for c, v in t12.items()})
        portfolio = sum(v["cm"] for v in t12.values()) / sum(v["net"] for v in t12.values())
        total = sum(v["net"] for v in t12.values())
        before = Decimal(0)
        tiers = seg_cfg.maturity.tiers
        for c in sorted(t12, key=lambda c: (-t12[c]["net"], c)):
            v = t12[c]
            share = before / total
            before += v["net"]
            topline = 0.5 * pr_net[c] + 0.3 * pr_orders[c] + 0.2 * pr_fam[c]
            prof = 0.6 * pr_cm[c] + 0.4 * pr_pct[c]
            top_high = topline >= seg_cfg.strata.topline.high_cut
            prof_high = prof >= seg_cfg.strata.profitability.high_cut and v["cm"] > 0
            stratum = {
                (True, True): "CORE",
                (True, False): "SERVICE_DRAIN",
                (False, True): "OPPORTUNISTIC",
                (False, False): "MARGINAL",
            }[(top_high, prof_high)]
            rev_high = pr_net[c] >= seg_cfg.quadrant.revenue_percentile_cut
            margin_high = v["cm"] / v["net"] >= portfolio
            quadrant = {
                (True, True): "NURTURE_AND_RETAIN",
                (True, False): "OPTIMIZE_AND_MOVE_RIGHT",
                (False, True): "GROW_AND_MOVE_UP",
                (False, False): "FIRE_OR_MOVE_RIGHT",
            }[(rev_high, margin_high)]
            tier = (
                "HIGH"
                if share < seg_cfg.revenue_tier.high_cumulative_share
                else ("MEDIUM" if share < seg_cfg.revenue_tier.medium_cumulative_share else "LOW")
            )
            maturity = min(100.0, max(0.0, 100 * pr_net[c] * 0.5 + rng.uniform(0, 50)))
            mtier = [t for t, lo in tiers.items() if maturity >= lo][-1]
            appetite = rng.uniform(0, 100)
            mseg = {
                (True, True): "TRANSFORM",
                (False, True): "MODERNIZE",
                (True, False): "EDUCATE",
                (False, False): "SUSTAIN",
            }[
                (
                    maturity >= seg_cfg.maturity_segment.maturity_cut,
                    appetite >= seg_cfg.maturity_segment.appetite_cut,
                )
            ]
            segments.append(
                {
                    "month": month,
                    "customer_no": c,
                    "customer_name": names[c]["name"],
                    "customer_group": names[c]["group"],
                    "net_revenue_t12m": money(v["net"]),
                    "gross_margin_t12m": money(v["gm"]),
                    "cost_to_serve_t12m": money(v["cts"]),
                    "contribution_margin_t12m": money(v["cm"]),
                    "orders_t12m": v["orders"],
                    "product_families_t12m": v["families"],
                    "topline_score": topline,
                    "profitability_score": prof,
                    "stratum": stratum,
                    "profitability_quadrant": quadrant,
                    "revenue_tier": tier,
                    "maturity_score": maturity,
                    "maturity_tier": mtier,
                    "appetite_score": appetite,
                    "maturity_segment": mseg,
                    "needs_group": rng.choice(NEEDS),
                    "config_version": settings.version,
                }
            )

    # -- KPIs, transitions, targets -------------------------------------------------------------------
    seg_months = sorted({s["month"] for s in segments})
    by_month = defaultdict(list)
    for s in segments:
        by_month[s["month"]].append(s)
    kpis = []
    kpi_values = {}
    transitions = []
    for mi, month in enumerate(ends):
        if month not in by_month:
            continue
        prior = ends[mi - 12] if mi >= 12 and ends[mi - 12] in by_month else None
        now = by_month[month]
        for segmentation, order in SEGMENT_ORDER.items():
            then = {s["customer_no"]: s[segmentation] for s in by_month[prior]} if prior else {}
            current = {s["customer_no"]: s[segmentation] for s in now}
            present = {current[c] for c in current} | set(then.values())
            for segment in [*[s for s in order if s in present], "ALL"]:
                members = [s for s in now if segment == "ALL" or s[segmentation] == segment]
                net = sum((s["net_revenue_t12m"] for s in members), Decimal(0))
                cm = sum((s["contribution_margin_t12m"] for s in members), Decimal(0))
                orders = sum(s["orders_t12m"] for s in members)
                cohort = [c for c, seg in then.items() if segment == "ALL" or seg == segment]
                retention = (sum(c in current for c in cohort) / len(cohort)) if cohort else None
                # (rank at M-12, rank at M) of the cohort's customers that still have a segment
                moves = [(order.index(then[c]), order.index(current[c])) for c in cohort if c in current]
                ordered = segmentation in ("maturity_tier", "revenue_tier") and segment != "ALL"
                n_moves = len(moves) or None
                up = sum(b > a for a, b in moves) / n_moves if ordered and n_moves else None
                down = sum(b < a for a, b in moves) / n_moves if ordered and n_moves else None
                changed = sum(b != a for a, b in moves) / n_moves if segment != "ALL" and n_moves else None
                aov = money(net / orders) if orders else None
                r = min(retention, 0.95) if retention is not None else None
                cltv = (
                    money(float(cm) / len(members) * r / (1 + 0.10 - r))
                    if r is not None and members
                    else None
                )
                row = {
                    "month": month,
                    "segmentation": segmentation,
                    "segment": segment,
                    "customers": len(members),
                    "net_revenue": net,
                    "gross_margin": sum((s["gross_margin_t12m"] for s in members), Decimal(0)),
                    "cost_to_serve": sum((s["cost_to_serve_t12m"] for s in members), Decimal(0)),
                    "contribution_margin": cm,
                    "contribution_margin_pct": float(cm / net) if net else None,
                    "aov": aov,
                    "retention_rate": retention,
                    "upsell_cross_sell_rate": rng.uniform(0.1, 0.5) if retention else None,
                    "migration_up_rate": up,
                    "migration_down_rate": down,
                    "changed_rate": changed,
                    "cltv": cltv,
                    "aov_yoy_change": rng.uniform(-0.1, 0.25) if prior and aov else None,
                    "cltv_yoy_change": None,
                }
                kpis.append(row)
                kpi_values[(month, segmentation, segment)] = row
            if prior:
                pairs = defaultdict(int)
                for c in set(then) | set(current):
                    pairs[(then.get(c, "NEW"), current.get(c, "INACTIVE"))] += 1
                for (f, t), n in sorted(pairs.items()):
                    transitions.append((month, segmentation, f, t, n))
    # cltv year over year where both years have a cltv
    for (month, segmentation, segment), row in kpi_values.items():
        mi = ends.index(month)
        before_row = kpi_values.get((ends[mi - 12], segmentation, segment)) if mi >= 12 else None
        if before_row and row["cltv"] and before_row["cltv"]:
            row["cltv_yoy_change"] = float(row["cltv"] / before_row["cltv"]) - 1

    targets = []
    for month in seg_months:
        for t in settings.kpis.targets:
            for segment in t.segments:
                row = kpi_values.get((month, t.segmentation, segment))
                value = row[t.kpi] if row else None
                value = float(value) if value is not None else None
                if value is None:
                    status = "NO_DATA"
                elif (t.low is None or round(value, 9) >= t.low) and (
                    t.high is None or round(value, 9) <= t.high
                ):
                    status = "MET"
                else:
                    status = "MISSED"
                targets.append((month, t.segmentation, segment, t.kpi, value, t.low, t.high, status))

    # -- reconciliation ------------------------------------------------------------------------
    recon = []
    tolerance = settings.reconciliation.tolerance_lcy
    for month in ends:
        rows = [r for r in profit if r[0] == month]
        un = [r for r in rows if r[1] == "UNASSIGNED"]

        def total(i, rows=rows):
            return sum((r[i] for r in rows), Decimal(0))

        def unassigned(i, un=un):
            return sum((r[i] for r in un), Decimal(0))

        freight = total(15)
        items = [("REVENUE", 4), ("COGS", 5), ("REBATE_INCOME", 6), ("SERVICES_COST", 7)]
        for item, i in items:
            pipeline = total(i)
            gl = pipeline + (money(rng.choice([0, 0, 0, 0.4, 12.5])) if item == "REVENUE" else 0)
            diff = pipeline - gl
            recon.append(
                (
                    month,
                    item,
                    pipeline,
                    unassigned(i),
                    None,
                    None,
                    gl,
                    diff,
                    "OK" if abs(diff) <= tolerance else "DIFFERENCE",
                )
            )
        cost = money(abs(freight) * 3 + 100)
        recon.append((month, "FREIGHT_COST", cost, money(0), None, None, cost, money(0), "OK"))
        recon.append(
            (month, "FREIGHT_RECOVERY", cost - freight, money(0), None, None, cost - freight, money(0), "OK")
        )
        for k, pool in enumerate(POOLS):
            allocated = total(9 + k)
            unallocated = money(rng.choice([0, 0, 0, 150]))
            pipeline = allocated + unallocated
            recon.append(
                (
                    month,
                    f"COST_POOL:{pool}",
                    pipeline,
                    unassigned(9 + k),
                    unallocated,
                    money(0),
                    pipeline,
                    money(0),
                    "OK",
                )
            )
        recon.append(
            (month, "OTHER", None, None, None, None, money(rng.uniform(1000, 5000)), None, "NOT_RECONCILED")
        )

    # -- playbook ------------------------------------------------------------------------------
    playbook = []
    if seg_months:
        newest = seg_months[-1]
        for s in by_month[newest]:
            play = seg_cfg.playbook[s["maturity_segment"]]
            last = newest - dt.timedelta(days=rng.randint(5, 200)) if rng.random() < 0.8 else None
            due = (
                add_months(last, play.review_cadence_months) if last and play.review_cadence_months else None
            )
            overdue = bool(play.review_cadence_months) and (
                last is None or (due is not None and due < newest)
            )
            playbook.append(
                (
                    s["customer_no"],
                    s["customer_name"],
                    newest,
                    s["stratum"],
                    s["maturity_segment"],
                    s["profitability_quadrant"],
                    play.review_cadence,
                    play.key_initiative,
                    play.relationship_owner,
                    last,
                    due,
                    overdue,
                )
            )

    data = {
        "fct_customer_profit_monthly": profit,
        "fct_cost_to_serve_monthly": cts_rows,
        "customer_segments": [tuple(s[c] for c, _ in MART_COLUMNS["customer_segments"]) for s in segments],
        "segment_kpis": [tuple(k[c] for c, _ in MART_COLUMNS["segment_kpis"]) for k in kpis],
        "segment_transitions": transitions,
        "kpi_target_status": targets,
        "margin_reconciliation": recon,
        "account_playbook": playbook,
        # the newest segment month's fits: a converged BG/NBD, a Gamma-Gamma that was not fitted
        "clv_model_fits": [
            (max(s["month"] for s in segments), "BG_NBD", len({s["customer_no"] for s in segments}),
             '{"a": 0.793, "alpha": 4.414, "b": 2.426, "r": 0.243}', -9582.4, True, "converged"),
            (max(s["month"] for s in segments), "GAMMA_GAMMA", 1, None, None, False,
             "not fitted: 1 customer(s) with x >= 1 and a positive mean repeat value, at least 2 needed"),
        ] if segments else [],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA marts")
        for table, columns in MART_COLUMNS.items():
            ddl = ", ".join(f'"{c}" {t}{" NOT NULL" if c in NOT_NULL[table] else ""}' for c, t in columns)
            con.execute(f"CREATE TABLE marts.{table} ({ddl})")
            rows = data[table]
            if rows:
                arrow = pa.table(
                    {
                        c: pa.array([r[i] for r in rows], type=ARROW_TYPES[t])
                        for i, (c, t) in enumerate(columns)
                    }
                )
                con.register("fixture_rows", arrow)
                con.execute(f"INSERT INTO marts.{table} SELECT * FROM fixture_rows")
                con.unregister("fixture_rows")
        create_audit_tables(con)
        con.execute(
            "INSERT INTO audit.load_batches VALUES ('erp', 'sales_lines', '2024-01', "
            "'erp/sales_lines/2024-01/part-0001.csv', "
            "10, 9, 1, 'LOADED', NULL, TIMESTAMP '2024-02-02 03:00:00', 'abc')"
        )
        con.execute(
            "INSERT INTO audit.quarantined_rows VALUES ('erp', 'sales_lines', '2024-01', "
            "'erp/sales_lines/2024-01/part-0001.csv', 7, 'net_amount', '12,5', 'not a decimal')"
        )
        if run_id is not None:
            for schema, table in all_tables(con):
                con.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN run_id VARCHAR")
            restamp_connection(con, run_id)
    finally:
        con.close()
    return path


def all_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('marts', 'audit') ORDER BY 1, 2"
    ).fetchall()


def restamp_connection(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute("BEGIN TRANSACTION")
    for schema, table in all_tables(con):
        con.execute(f"UPDATE {schema}.{table} SET run_id = ?", [run_id])
    con.execute("COMMIT")


def restamp(path: Path, run_id: str) -> None:
    """Stamp every row of every table with `run_id` (the warehouse must have been built with one)."""
    con = duckdb.connect(str(path))
    try:
        restamp_connection(con, run_id)
    finally:
        con.close()

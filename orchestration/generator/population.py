"""The customer population (erp/customers): who they are, when they join and leave, how they behave.

Every customer gets a persona (see personas.py) and individual traits drawn around it. A share of
customers joins during the period (created in the month it first buys) and a share stops buying
(churn): it stays in the customer snapshot and is closed or blocked two months later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator import personas as P
from orchestration.generator.calendar import Calendar
from orchestration.generator.fx import CURRENCIES
from orchestration.generator.rng import cumulative, pick, quota, stream

GROUPS = ("VAR", "MSP", "SYSTEM_INTEGRATOR", "CORPORATE_RESELLER", "RETAILER", "EDU_GOV_RESELLER")
STATUSES = ("ACTIVE", "BLOCKED", "CLOSED")
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "IE")
COUNTRY_SHARE = np.array([0.52, 0.12, 0.12, 0.09, 0.07, 0.05, 0.03])
COUNTRY_CURRENCY = np.array([0, 3, 2, 1, 1, 1, 1])  # index into CURRENCIES
BILLED_IN_LCY = 0.15  # share of customers abroad that are billed in USD anyway
TERMS = np.array([30, 45, 60])
JOIN_SHARE = 0.18  # customers created during the period
CHURN_SHARE = 0.10  # customers that stop buying during the period
STATUS_LAG = 2  # months after the last purchase month until a churned customer is closed or blocked
STICKY = np.array([1.0, 0.15])  # relative chance of joining or churning: small, large customers

FIRST = [
    "Apex",
    "Northwind",
    "Bluewater",
    "Summit",
    "Cobalt",
    "Redwood",
    "Ironbridge",
    "Silverline",
    "Harbor",
    "Meridian",
    "Pinnacle",
    "Keystone",
    "Lakeshore",
    "Granite",
    "Evergreen",
    "Falcon",
    "Orion",
    "Atlas",
    "Beacon",
    "Crescent",
    "Horizon",
    "Juniper",
    "Maple",
    "Nimbus",
    "Oakridge",
    "Pioneer",
    "Quantum",
    "Riverside",
    "Sterling",
    "Trident",
    "Vanguard",
    "Westgate",
    "Zenith",
    "Alder",
    "Brightpath",
    "Cascade",
    "Driftwood",
    "Foxhill",
    "Greystone",
    "Highland",
    "Kingfisher",
    "Lighthouse",
    "Mosaic",
    "Norland",
    "Oxbow",
    "Parkside",
    "Ridgeline",
    "Seabright",
    "Tamarack",
    "Willow",
    "Yardley",
    "Bergmann",
    "Fjord",
    "Lumière",
    "Müller",
    "Sørensen",
    "Nuñez",
    "O'Connor",
]
SECOND = [
    "IT",
    "Systems",
    "Networks",
    "Technologies",
    "Computing",
    "Data",
    "Digital",
    "Solutions",
    "Tech",
    "Infotech",
    "Micro",
    "Integration",
    "Cloud",
    "Consulting",
    "Office Systems",
    "Communications",
    "Logic",
    "Datacom",
    "Computer Services",
    "Business Machines",
]
LEGAL = {  # legal-form suffixes by country; ", Inc." makes names with commas (quoted in CSV)
    "US": [" Inc.", " LLC", ", Inc.", " Corp.", " Group"],
    "CA": [" Inc.", " Ltd.", ", Inc.", " Corp."],
    "GB": [" Ltd", " Limited", " plc", " Group Ltd"],
    "DE": [" GmbH", " AG", " GmbH & Co. KG"],
    "FR": [" SAS", " SARL", " SA"],
    "NL": [" B.V.", " N.V."],
    "IE": [" Ltd", " Teoranta"],
}
INDUSTRIES = [
    "Education",
    "Healthcare",
    "Manufacturing",
    "Financial Services",
    "Retail",
    "Public Sector",
    "Professional Services",
    "Technology",
    "Logistics",
    "Hospitality",
]


def customer_numbers(index: np.ndarray) -> pa.Array:
    """Customer numbers: "C" and six digits, C000001 upwards."""
    return col.ids("C", np.asarray(index) + 1, 6)


UNKNOWN_CUSTOMER = "C999999"  # referenced by a few sales lines, in no customer snapshot
MAX_CUSTOMERS = 999_000


@dataclass(frozen=True)
class Population:
    n: int
    customer_no: pa.Array
    name: pa.Array  # legal names (the ERP's)
    short_name: list[str]  # names without the legal form (the CRM and PSA spell them so)
    persona: np.ndarray
    group: np.ndarray
    country: np.ndarray
    currency: np.ndarray  # index into CURRENCIES
    terms: np.ndarray  # payment terms in days
    credit_limit_cents: np.ndarray
    created_day: np.ndarray  # epoch day
    join: np.ndarray  # first month it can buy (0 for customers that existed before the period)
    churn: np.ndarray  # first month it no longer buys (len(cal) when it never churns)
    blocked: np.ndarray  # closed customers are BLOCKED rather than CLOSED
    parent: np.ndarray  # index of the bill-to parent, -1 for none
    size: np.ndarray
    buy_probability: np.ndarray
    documents_per_month: np.ndarray
    extra_lines: np.ndarray
    quantity_multiplier: np.ndarray
    family_cum: np.ndarray  # (n, 5) cumulative family mix
    channel_cum: np.ndarray  # (n, 5) cumulative channel mix
    discount: np.ndarray
    return_rate: np.ndarray
    price_adjustment_rate: np.ndarray
    drop_ship_rate: np.ndarray
    service_level_cum: np.ndarray
    freight_recovery: np.ndarray
    free_freight: np.ndarray
    late_rate: np.ndarray
    mean_days_late: np.ndarray
    maturity: np.ndarray  # (n, 5) latent survey traits 0..1
    industry: np.ndarray  # index into INDUSTRIES, -1 unknown
    employees: np.ndarray  # -1 unknown
    surveyed: np.ndarray  # takes part in the yearly maturity survey
    survey_month: np.ndarray  # 1..12: the month of year it answers
    skipped_dimension: np.ndarray  # -1, or the dimension its responses leave out

    @classmethod
    def build(cls, cal: Calendar, customers: int, seed: int) -> Population:
        if not 1 <= customers <= MAX_CUSTOMERS:
            raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS}")
        rng = stream(seed, "population")
        n, months = customers, len(cal)
        idx = np.arange(n)

        # personas by quota (each present once there are four customers), in random order
        counts = np.floor(P.SHARE * n).astype(int)
        if n >= 4:
            counts = np.maximum(counts, 1)
        while counts.sum() < n:
            counts[int(np.argmax(P.SHARE * n - counts))] += 1
        while counts.sum() > n:
            counts[int(np.argmax(counts))] -= 1
        persona = rng.permutation(np.repeat(np.arange(4), counts))
        large = P.LARGE[persona]

        country = pick(rng, n, COUNTRY_SHARE).astype(np.int64)
        currency = COUNTRY_CURRENCY[country]
        currency = np.where((country > 0) & (rng.random(n) < BILLED_IN_LCY), 0, currency)
        if n >= 4:  # at least one customer billed in each currency
            for c in range(1, len(CURRENCIES)):
                if not (currency == c).any():
                    i = int(rng.choice(np.flatnonzero((currency == 0) & (persona != P.LARGE_EFFICIENT))))
                    country[i] = int(np.flatnonzero(c == COUNTRY_CURRENCY)[0])
                    currency[i] = c
        group = _rows(rng, P.GROUP_MIX[persona])
        terms = TERMS[_rows(rng, P.TERMS_MIX[persona])]

        # joining and churning
        join = np.zeros(n, dtype=np.int64)
        churn = np.full(n, months, dtype=np.int64)
        sticky = STICKY[large.astype(int)]
        some = 2 if n >= 10 else 0
        if months >= 2:
            joiners = quota(rng, idx, JOIN_SHARE, minimum=some, weights=sticky)
            join[joiners] = rng.integers(1, months, len(joiners))
        if months >= 5:
            possible = np.flatnonzero(join <= months - 4)
            churners = quota(rng, possible, CHURN_SHARE, minimum=some, weights=sticky[possible])
            lo = join[churners] + 3
            churn[churners] = lo + np.floor(rng.random(len(churners)) * (months - lo)).astype(np.int64)
        blocked = rng.random(n) < 0.3
        start = int(cal.start[0])
        created_day = np.where(
            join > 0,
            cal.start[np.minimum(join, months - 1)] + np.floor(rng.random(n) * 20).astype(np.int64),
            start - 30 - np.floor(rng.random(n) * 3650).astype(np.int64),
        )

        # hierarchy: a few small customers are billed through a large customer that existed from the start
        parent = np.full(n, -1, dtype=np.int64)
        parents = np.flatnonzero(large & (join == 0))
        if len(parents) and n >= 10:
            children = quota(rng, np.flatnonzero(~large), 0.04)
            parent[children] = rng.choice(parents, len(children))

        size = rng.lognormal(0.0, 0.45, n)
        noise = lambda s: rng.lognormal(0.0, s, n)  # noqa: E731
        family_mix = P.FAMILY_MIX[persona] * rng.gamma(6.0, 1 / 6.0, (n, 5))
        channel_mix = P.CHANNEL_MIX[persona] * rng.gamma(8.0, 1 / 8.0, (n, 5))
        maturity = np.clip(P.MATURITY[persona] + rng.normal(0, 0.12, (n, 5)), 0.02, 0.98)

        expected_month = (
            P.DOCUMENTS_PER_MONTH[persona]
            * size
            * (1 + P.EXTRA_LINES_PER_DOCUMENT[persona])
            * P.QUANTITY_MULTIPLIER[persona]
            * 1500
            * P.BUY_PROBABILITY[persona]
        )
        credit_limit = (np.ceil(expected_month * 2 / 5000) * 5000 * 100).astype(np.int64)

        industry = np.where(rng.random(n) < 0.88, rng.integers(0, len(INDUSTRIES), n), -1)
        employees = np.where(
            rng.random(n) < 0.8,
            np.maximum(1, (P.EMPLOYEES[persona] * size * noise(0.6)).astype(np.int64)),
            -1,
        )
        not_surveyed = quota(rng, idx, 0.15)
        surveyed = np.ones(n, dtype=bool)
        surveyed[not_surveyed] = False
        survey_month = rng.integers(1, 13, n)
        skipped = np.full(n, -1, dtype=np.int64)
        steady = np.flatnonzero(surveyed & (join == 0) & (churn == months))
        skippers = quota(rng, steady, 0.12, minimum=1 if n >= 10 else 0)
        skipped[skippers] = rng.integers(0, 5, len(skippers))

        names, short = _names(rng, n, country)
        return cls(
            n=n,
            customer_no=customer_numbers(idx),
            name=pa.array(names, pa.string()),
            short_name=short,
            persona=persona,
            group=group,
            country=country,
            currency=currency,
            terms=terms,
            credit_limit_cents=credit_limit,
            created_day=created_day,
            join=join,
            churn=churn,
            blocked=blocked,
            parent=parent,
            size=size,
            buy_probability=P.BUY_PROBABILITY[persona],
            documents_per_month=P.DOCUMENTS_PER_MONTH[persona] * size,
            extra_lines=P.EXTRA_LINES_PER_DOCUMENT[persona] * noise(0.2),
            quantity_multiplier=P.QUANTITY_MULTIPLIER[persona] * np.sqrt(size),
            family_cum=cumulative(family_mix),
            channel_cum=cumulative(channel_mix),
            discount=P.DISCOUNT_RATE[persona] * noise(0.25),
            return_rate=P.RETURN_RATE[persona] * noise(0.3),
            price_adjustment_rate=P.PRICE_ADJUSTMENT_RATE[persona] * noise(0.3),
            drop_ship_rate=P.DROP_SHIP_RATE[persona],
            service_level_cum=cumulative(P.SERVICE_LEVEL_MIX[persona]),
            freight_recovery=P.FREIGHT_RECOVERY[persona] * noise(0.1),
            free_freight=P.FREE_FREIGHT_RATE[persona],
            late_rate=np.clip(P.LATE_RATE[persona] * noise(0.3), 0, 0.95),
            mean_days_late=P.MEAN_DAYS_LATE[persona] * noise(0.3),
            maturity=maturity,
            industry=industry,
            employees=employees,
            surveyed=surveyed,
            survey_month=survey_month,
            skipped_dimension=skipped,
        )

    def buying(self, m: int) -> np.ndarray:
        """Customers that buy in month m: joined and not yet churned."""
        return (self.join <= m) & (self.churn > m)

    def exists(self, cal: Calendar, m: int) -> np.ndarray:
        """Customers in the snapshot of month m (created by its end)."""
        return self.created_day <= cal.end[m]

    def status(self, m: int) -> np.ndarray:
        closed = m >= self.churn + STATUS_LAG
        return np.where(closed, np.where(self.blocked, 1, 2), 0)

    def snapshot(self, cal: Calendar, m: int) -> pa.Table:
        keep = np.flatnonzero(self.exists(cal, m))
        parent = self.parent[keep]
        return pa.table(
            {
                "customer_no": self.customer_no.take(keep),
                "customer_name": self.name.take(keep),
                "customer_group": col.labels(GROUPS, self.group[keep]),
                "country": col.labels(COUNTRIES, self.country[keep]),
                "currency": col.labels(CURRENCIES, self.currency[keep]),
                "payment_terms_days": col.ints(self.terms[keep]),
                "credit_limit_lcy": col.money(self.credit_limit_cents[keep]),
                "created_date": col.dates(self.created_day[keep]),
                "status": col.labels(STATUSES, self.status(m)[keep]),
                "parent_customer_no": self.customer_no.take(pa.array(np.maximum(parent, 0), mask=parent < 0)),
            }
        )

    def persona_table(self) -> pa.Table:
        return pa.table(
            {
                "customer_no": self.customer_no,
                "persona": col.labels(P.PERSONAS, self.persona),
                "join_month_index": col.ints(self.join),
                "churn_month_index": col.ints(self.churn),
            }
        )


def _rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix."""
    cum = cumulative(probs)
    u = rng.random(len(cum))
    return (u[:, None] >= cum[:, :-1]).sum(axis=1)


def _names(rng: np.random.Generator, n: int, country: np.ndarray) -> tuple[list[str], list[str]]:
    first = rng.integers(0, len(FIRST), n)
    second = rng.integers(0, len(SECOND), n)
    legal = rng.integers(0, 1 << 30, n)
    quoted = rng.random(n) < 0.01
    names, short = [], []
    for i in range(n):
        base = f"{FIRST[first[i]]} {SECOND[second[i]]}"
        if quoted[i]:
            base = f'"{FIRST[first[i]]}" {SECOND[second[i]]}'
        forms = LEGAL[COUNTRIES[country[i]]]
        names.append(base + forms[legal[i] % len(forms)])
        short.append(base.replace('"', ""))
    return names, short

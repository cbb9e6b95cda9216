"""Shipments (erp/shipments): one per invoice with goods leaving a warehouse.

Drop-shipped lines leave from the vendor and cause no shipment. Freight cost follows the service
level and weight; what is billed back to the customer follows its persona (high-service buyers get
express freight they do not pay for).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.population import Population
from orchestration.generator.rng import categorical
from orchestration.generator.sales import SalesMonth

LEVELS = ("STANDARD", "EXPRESS", "NEXT_DAY")
BASE_CENTS = np.array([1100, 2600, 4200])
PER_KG_CENTS = np.array([45, 110, 180])
PARCEL_KG = 300  # above this, pallet rates: a fifth of the parcel rate per kg
CARRIERS = ("UPS", "FedEx", "XPO Logistics", "Purolator", "Canada Post", "DPD", "Royal Mail", "DHL", "PostNL")
# carriers serving each country: US, CA, GB, DE, FR, NL, IE
COUNTRY_CARRIERS = [(0, 1, 2), (3, 4), (5, 6), (7, 5), (7, 5), (8, 7), (6, 5)]


def month_shipments(
    pop: Population, sales: SalesMonth, rng: np.random.Generator, first_number: int
) -> tuple[pa.Table, int, int]:
    """The month's shipments, Σ freight_cost_lcy and Σ freight_charged_lcy (cents)."""
    s = np.flatnonzero(sales.inv_shipped)
    n = len(s)
    cust = sales.inv_customer[s]
    level = categorical(rng, pop.service_level_cum[cust]).astype(np.int64)
    centi_kg = np.maximum(col.round_half_away(sales.inv_weight_g[s] / 10), 10)
    kg = centi_kg / 100
    rated_kg = np.minimum(kg, PARCEL_KG) + 0.2 * np.maximum(kg - PARCEL_KG, 0)
    cost = col.round_half_away(
        (BASE_CENTS[level] + PER_KG_CENTS[level] * rated_kg) * rng.uniform(0.93, 1.07, n)
    )
    free = rng.random(n) < pop.free_freight[cust]
    charged = np.where(
        free, 0, col.round_half_away(cost * pop.freight_recovery[cust] * rng.uniform(0.9, 1.1, n))
    )
    packages = np.clip(np.ceil(kg / 18), 1, 60).astype(np.int64)
    carrier = _carriers(pop.country[cust], rng.integers(0, 6, n))
    table = pa.table(
        {
            "shipment_no": col.ids("SH", first_number + np.arange(n), 9),
            "order_no": col.ids("SO", sales.inv_order[s], 9),
            "customer_no": pop.customer_no.take(cust),
            "ship_date": col.dates(sales.inv_day[s]),
            "service_level": col.labels(LEVELS, level),
            "carrier": col.labels(CARRIERS, carrier),
            "packages": col.ints(packages),
            "weight_kg": col.money(centi_kg),
            "freight_cost_lcy": col.money(cost),
            "freight_charged_lcy": col.money(charged),
        }
    )
    return table, int(cost.sum()), int(charged.sum())


def _carriers(country: np.ndarray, pick_: np.ndarray) -> np.ndarray:
    out = np.zeros(len(country), dtype=np.int64)
    for c, opts in enumerate(COUNTRY_CARRIERS):
        sel = country == c
        out[sel] = np.asarray(opts)[pick_[sel] % len(opts)]
    return out

"""The item catalogue (erp/items): what the distributor sells, at what list price and cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.calendar import Calendar
from orchestration.generator.rng import pick, stream

FAMILIES = ("HARDWARE", "PERIPHERALS", "SOFTWARE", "CLOUD", "SERVICES")
HARDWARE, PERIPHERALS, SOFTWARE, CLOUD, SERVICES = range(5)
FAMILY_SHARE = np.array([0.35, 0.30, 0.15, 0.10, 0.10])
# category, unit of measure, median list price in LCY, median weight in grams, stocked?
CATEGORIES = {
    HARDWARE: [
        ("Notebooks", "EA", 1100, 2_100, True),
        ("Desktops", "EA", 850, 7_500, True),
        ("Servers", "EA", 6_500, 24_000, False),
        ("Storage", "EA", 4_200, 16_000, False),
        ("Networking", "EA", 900, 2_500, True),
        ("Thin Clients", "EA", 420, 1_400, True),
    ],
    PERIPHERALS: [
        ("Monitors", "EA", 260, 6_000, True),
        ("Printers", "EA", 380, 11_000, True),
        ("Docking Stations", "EA", 190, 900, True),
        ("Keyboards and Mice", "EA", 45, 600, True),
        ("Headsets", "EA", 85, 350, True),
        ("Cables and Adapters", "EA", 18, 150, True),
    ],
    SOFTWARE: [
        ("Security", "LIC", 70, 0, False),
        ("Productivity", "LIC", 280, 0, False),
        ("Backup", "LIC", 520, 0, False),
        ("Operating Systems", "LIC", 190, 0, False),
    ],
    CLOUD: [
        ("Infrastructure", "SUB", 95, 0, False),
        ("Collaboration", "SUB", 14, 0, False),
        ("Backup as a Service", "SUB", 32, 0, False),
    ],
    SERVICES: [
        ("Installation", "EA", 450, 0, False),
        ("Extended Warranty", "EA", 210, 0, False),
        ("Consulting", "HR", 165, 0, False),
    ],
}
VENDORS = {
    HARDWARE: ["Corvex", "Aster Compute", "Nordwave", "Kestrel Systems", "Tessellate"],
    PERIPHERALS: ["Lumio", "Inkwell", "Corvex", "Periscope Devices"],
    SOFTWARE: ["Bluepeak Software", "Sentinel Labs", "Ordinal"],
    CLOUD: ["Stratus Cloud", "Bluepeak Software", "Nimbus Works"],
    SERVICES: ["Corvex", "Aster Compute", "Northbridge Services"],
}
# Vendors that pay distributors back-end rebates, and the rate (share of net sales).
REBATE_PROGRAMS = {
    "Corvex": 0.03,
    "Nordwave": 0.025,
    "Kestrel Systems": 0.04,
    "Bluepeak Software": 0.05,
    "Stratus Cloud": 0.06,
    "Lumio": 0.02,
}
MARKUP = np.array([0.10, 0.22, 0.14, 0.18, 0.45])  # list price over cost
MEAN_QUANTITY = np.array([2.5, 4.0, 8.0, 15.0, 1.5])
SERIES = ["X", "Pro ", "Elite ", "Edge ", "Core ", "Vista ", "Flex ", "Max "]


@dataclass(frozen=True)
class Catalog:
    item_no: pa.Array
    description: pa.Array
    vendor: np.ndarray  # index into vendor_names
    vendor_names: tuple[str, ...]
    family: np.ndarray
    category: np.ndarray  # index into category_names
    category_names: tuple[str, ...]
    uom: pa.Array
    stocked: np.ndarray
    weight_g: np.ndarray
    list_cents: np.ndarray  # list price in LCY cents
    cost_cents: np.ndarray  # unit cost in LCY cents
    rebate_bp: np.ndarray  # rebate in basis points of net sales (0: no programme)
    intro: np.ndarray  # month index from which the item is sold (≤ 0: from the start)

    @classmethod
    def build(cls, cal: Calendar, customers: int, seed: int) -> Catalog:
        rng = stream(seed, "catalog")
        n = int(min(1500, 240 + customers // 150))
        family = np.sort(pick(rng, n, FAMILY_SHARE)).astype(np.int64)
        for f in range(5):  # every family sells something
            if not (family == f).any():
                family[rng.integers(n)] = f
        family = np.sort(family)
        vendor_names = tuple(sorted({v for vs in VENDORS.values() for v in vs}))
        category_names = tuple(c[0] for f in range(5) for c in CATEGORIES[f])
        vendor = np.empty(n, dtype=np.int64)
        category = np.empty(n, dtype=np.int64)
        uom, descriptions = [], []
        stocked = np.empty(n, dtype=bool)
        weight = np.empty(n, dtype=np.int64)
        list_price = np.empty(n, dtype=np.float64)
        for i in range(n):  # a few hundred items, once per generation
            f = int(family[i])
            cats = CATEGORIES[f]
            c = int(rng.integers(len(cats)))
            name, unit, price, grams, is_stocked = cats[c]
            v = VENDORS[f][int(rng.integers(len(VENDORS[f])))]
            vendor[i] = vendor_names.index(v)
            category[i] = category_names.index(name)
            uom.append(unit)
            # big boxes are sometimes held in stock, sometimes only ever drop-shipped
            stocked[i] = is_stocked if f != HARDWARE or is_stocked else rng.random() < 0.3
            weight[i] = int(grams * rng.lognormal(0, 0.25)) if stocked[i] or grams else 0
            list_price[i] = price * rng.lognormal(0, 0.35)
            series = SERIES[int(rng.integers(len(SERIES)))]
            model = f"{series}{int(rng.integers(100, 990))}"
            label = name[:-1] if name.endswith("s") and f in (HARDWARE, PERIPHERALS) else name
            text = f"{v} {label} {model}".replace("  ", " ")
            if rng.random() < 0.06:  # some descriptions carry commas (quoted in CSV)
                text += f", {int(rng.integers(2, 6))}-pack" if f == PERIPHERALS else ", EMEA/NA"
            descriptions.append(text)
        list_cents = col.round_half_away(list_price * 100).clip(min=100)
        markup = MARKUP[family] * rng.lognormal(0, 0.25, n)
        cost_cents = col.round_half_away(list_cents / (1 + markup))
        rebate_bp = np.array([int(round(REBATE_PROGRAMS.get(vendor_names[v], 0) * 10_000)) for v in vendor])
        intro = np.where(rng.random(n) < 0.85, 0, rng.integers(0, max(len(cal), 1), n))
        for f in range(5):  # every family has items on sale from the first month, stocked hardware too
            intro[np.flatnonzero(family == f)[0]] = 0
        intro[np.flatnonzero((family == HARDWARE) & stocked)[:1]] = 0
        return cls(
            item_no=col.ids("SKU", 100_001 + np.arange(n), 6),
            description=pa.array(descriptions, pa.string()),
            vendor=vendor,
            vendor_names=vendor_names,
            family=family,
            category=category,
            category_names=category_names,
            uom=pa.array(uom, pa.string()),
            stocked=stocked,
            weight_g=weight,
            list_cents=list_cents,
            cost_cents=cost_cents,
            rebate_bp=rebate_bp,
            intro=intro,
        )

    def __len__(self) -> int:
        return len(self.family)

    def available(self, m: int, family: int) -> np.ndarray:
        """Items of `family` on sale in month m, the most popular first (catalogue order)."""
        return np.flatnonzero((self.family == family) & (self.intro <= m))

    def snapshot(self, m: int) -> pa.Table:
        keep = np.flatnonzero(self.intro <= m)
        return pa.table(
            {
                "item_no": self.item_no.take(keep),
                "description": self.description.take(keep),
                "vendor_name": col.labels(self.vendor_names, self.vendor[keep]),
                "product_family": col.labels(FAMILIES, self.family[keep]),
                "category": col.labels(self.category_names, self.category[keep]),
                "unit_of_measure": self.uom.take(keep),
                "is_stocked": col.bools(self.stocked[keep]),
            }
        )

"""The four kinds of customer the sample data is made of, and what sets them apart.

NAW's stratification asks two questions of every customer: how much does it buy (top line) and what
is it worth after the cost of serving it (profitability). The personas are built so that the answers
differ in the ways distributors see in practice:

- LARGE_EFFICIENT: big, frequent orders through EDI and API, few returns, little support, pays on
  time, mature and keen (NAW's *core* customers).
- LARGE_HIGH_SERVICE: big volume bought by phone and e-mail with deep discounts, many returns and
  price adjustments, express freight it does not pay for, a busy help desk, late payments (a
  *service drain*).
- SMALL_SPORADIC: buys now and then, mostly software, cloud and services at list price through the
  portal; costs little to serve (an *opportunistic*, high-margin buyer).
- SMALL_COSTLY: small orders of peripherals by phone, returns, tickets and late payments
  (*marginal*).

Every per-customer trait is the persona's value with individual noise, so personas overlap at the
edges as real customers do. Arrays are indexed by persona code (0..3).
"""

from __future__ import annotations

import numpy as np

PERSONAS = ("LARGE_EFFICIENT", "LARGE_HIGH_SERVICE", "SMALL_SPORADIC", "SMALL_COSTLY")
LARGE_EFFICIENT, LARGE_HIGH_SERVICE, SMALL_SPORADIC, SMALL_COSTLY = range(4)
SHARE = np.array([0.15, 0.15, 0.35, 0.35])
LARGE = np.array([True, True, False, False])


def a(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


# --- buying ----------------------------------------------------------------------------------------
BUY_PROBABILITY = a(1.0, 1.0, 0.40, 0.85)  # chance of buying at all in a month
DOCUMENTS_PER_MONTH = a(6.2, 5.5, 1.3, 1.5)  # invoices in a month when buying (× size)
EXTRA_LINES_PER_DOCUMENT = a(2.8, 2.0, 0.8, 0.5)  # lines per invoice = 1 + Poisson(this)
QUANTITY_MULTIPLIER = a(1.0, 0.9, 0.9, 0.6)
# product family mix: HARDWARE, PERIPHERALS, SOFTWARE, CLOUD, SERVICES
FAMILY_MIX = a(
    [0.40, 0.14, 0.20, 0.19, 0.07],
    [0.52, 0.30, 0.10, 0.05, 0.03],
    [0.10, 0.08, 0.30, 0.27, 0.25],
    [0.22, 0.60, 0.10, 0.05, 0.03],
)
# order channel mix: EDI, API, PORTAL, EMAIL, PHONE
CHANNEL_MIX = a(
    [0.46, 0.30, 0.20, 0.03, 0.01],
    [0.02, 0.02, 0.12, 0.42, 0.42],
    [0.00, 0.06, 0.70, 0.16, 0.08],
    [0.00, 0.00, 0.10, 0.40, 0.50],
)
DISCOUNT_RATE = a(0.035, 0.09, 0.004, 0.02)  # typical line discount off list price
RETURN_RATE = a(0.008, 0.06, 0.01, 0.05)  # share of invoice lines returned
PRICE_ADJUSTMENT_RATE = a(0.003, 0.03, 0.002, 0.012)  # share of lines given a price credit
DROP_SHIP_RATE = a(0.10, 0.03, 0.06, 0.02)  # stocked items shipped by the vendor anyway

# --- logistics ---------------------------------------------------------------------------------------
SERVICE_LEVEL_MIX = a(  # STANDARD, EXPRESS, NEXT_DAY
    [0.86, 0.11, 0.03],
    [0.30, 0.40, 0.30],
    [0.80, 0.15, 0.05],
    [0.50, 0.30, 0.20],
)
FREIGHT_RECOVERY = a(1.05, 0.30, 1.10, 0.45)  # freight billed ÷ freight cost
FREE_FREIGHT_RATE = a(0.15, 0.45, 0.05, 0.30)

# --- paying ------------------------------------------------------------------------------------------
TERMS_MIX = a([0.40, 0.35, 0.25], [0.40, 0.35, 0.25], [0.75, 0.20, 0.05], [0.75, 0.20, 0.05])  # 30/45/60
LATE_RATE = a(0.08, 0.45, 0.15, 0.55)
MEAN_DAYS_LATE = a(4.0, 18.0, 7.0, 24.0)

# --- services (PSA) -----------------------------------------------------------------------------------
HAS_PSA_COMPANY = a(0.85, 0.95, 0.45, 0.70)
TICKETS_PER_MONTH = a(1.5, 11.0, 0.3, 2.5)
# board mix: HELPDESK, PRE_SALES, RMA, ORDER_STATUS, PROJECTS
BOARD_MIX = a(
    [0.50, 0.15, 0.05, 0.05, 0.25],
    [0.50, 0.05, 0.15, 0.25, 0.05],
    [0.40, 0.25, 0.05, 0.05, 0.25],
    [0.55, 0.05, 0.15, 0.22, 0.03],
)
HELPDESK_HOURS = a(0.6, 1.5, 0.6, 1.3)  # mean hours of a help-desk time entry
PROJECT_ENTRIES_PER_MONTH = a(1.2, 0.6, 0.12, 0.05)  # billable project time not tied to a ticket
AGREEMENT_MIX = a(  # MANAGED_SERVICES, BLOCK_HOURS, WARRANTY_SUPPORT, PROJECT
    [0.45, 0.10, 0.30, 0.15],
    [0.40, 0.35, 0.15, 0.10],
    [0.10, 0.30, 0.10, 0.50],
    [0.15, 0.35, 0.45, 0.05],
)

# --- sales coverage (CRM) ----------------------------------------------------------------------------
ACTIVITIES_PER_MONTH = a(3.0, 8.0, 0.6, 2.5)
# activity mix: CALL, EMAIL, MEETING, QBR, SITE_VISIT, TRAINING, WEBINAR
ACTIVITY_MIX = a(
    [0.18, 0.25, 0.20, 0.02, 0.10, 0.10, 0.15],
    [0.30, 0.25, 0.20, 0.02, 0.16, 0.04, 0.03],
    [0.12, 0.45, 0.10, 0.00, 0.05, 0.06, 0.22],
    [0.45, 0.35, 0.10, 0.00, 0.05, 0.03, 0.02],
)
ATTENDANCE = a(0.88, 0.60, 0.75, 0.35)  # chance the customer attends a meeting-type activity
OPPORTUNITIES_PER_MONTH = a(0.55, 0.45, 0.15, 0.10)
WIN_RATE = a(0.55, 0.35, 0.45, 0.22)
NEED_CAPTURE = a(0.85, 0.60, 0.70, 0.40)  # share of opportunities with a need_driver
NEED_MIX = a([0.60, 0.30, 0.10], [0.20, 0.60, 0.20], [0.45, 0.35, 0.20], [0.10, 0.50, 0.40])
OPPORTUNITY_SIZE = a(60_000, 45_000, 8_000, 4_000)  # typical amount, in LCY

# --- maturity (survey latent traits, 0..1) -------------------------------------------------------------
# TECHNICAL_CAPABILITY, DIGITAL_ADOPTION, SOLUTION_COMPLEXITY, IT_STANDARDIZATION, GROWTH_APPETITE
MATURITY = a(
    [0.78, 0.85, 0.72, 0.75, 0.72],
    [0.45, 0.25, 0.40, 0.35, 0.68],
    [0.70, 0.70, 0.72, 0.55, 0.28],
    [0.22, 0.22, 0.18, 0.25, 0.30],
)

# --- master data -------------------------------------------------------------------------------------
# customer_group mix: VAR, MSP, SYSTEM_INTEGRATOR, CORPORATE_RESELLER, RETAILER, EDU_GOV_RESELLER
GROUP_MIX = a(
    [0.25, 0.20, 0.25, 0.25, 0.00, 0.05],
    [0.30, 0.10, 0.20, 0.20, 0.10, 0.10],
    [0.35, 0.35, 0.10, 0.00, 0.05, 0.15],
    [0.40, 0.15, 0.00, 0.00, 0.35, 0.10],
)
EMPLOYEES = a(900, 700, 60, 35)  # typical employee count

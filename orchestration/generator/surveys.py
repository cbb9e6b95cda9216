"""Maturity survey responses (crm/survey_responses).

Once a year, in its own month, most customers answer the maturity survey on their primary account:
two questions for each of the five dimensions, scored 1–5 around the customer's latent traits. Some
customers never answer; a few always leave one dimension out.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.generator import columns as col
from orchestration.generator.accounts import Accounts
from orchestration.generator.calendar import Calendar
from orchestration.generator.population import Population

DIMENSIONS = (
    "TECHNICAL_CAPABILITY",
    "DIGITAL_ADOPTION",
    "SOLUTION_COMPLEXITY",
    "IT_STANDARDIZATION",
    "GROWTH_APPETITE",
)
CODES = ("TC", "DA", "SC", "IS", "GA")
QUESTIONS_PER_DIMENSION = 2
QUESTION_CODES = tuple(f"{c}{q:02d}" for c in CODES for q in range(1, QUESTIONS_PER_DIMENSION + 1))
RESPONSE_RATE = 0.9


def month_responses(
    cal: Calendar, pop: Population, acc: Accounts, m: int, rng: np.random.Generator, first_number: int
) -> tuple[int, pa.Table]:
    """The month's responses and how many there are (each has several question rows)."""
    primary = acc.primary_of(pop)
    moy = int(cal.month_of_year[m])
    engaged = acc.engaged(cal, pop, m)
    due = pop.surveyed & (pop.survey_month == moy) & pop.buying(m) & engaged[primary]
    answers = rng.random(pop.n) < RESPONSE_RATE
    respondent = np.flatnonzero(due & (answers | (pop.skipped_dimension >= 0)))
    r = len(respondent)
    q = len(QUESTION_CODES)
    customer = np.repeat(respondent, q)
    question = np.tile(np.argsort(QUESTION_CODES), r)  # rows in key order: response, question code
    dimension = question // QUESTIONS_PER_DIMENSION
    keep = dimension != pop.skipped_dimension[customer]
    latent = pop.maturity[customer, dimension]
    score = np.clip(col.round_half_away(1 + 4 * latent + rng.normal(0, 0.55, len(customer))), 1, 5)
    day = np.repeat(cal.sample_days(rng, m, r), q)
    response = np.repeat(first_number + np.arange(r), q)
    customer, question, dimension, score, day, response = (
        x[keep] for x in (customer, question, dimension, score, day, response)
    )
    return r, pa.table(
        {
            "response_id": col.ids("SR", response, 8),
            "account_id": acc.account_id.take(pa.array(primary[customer], pa.int64())),
            "survey_id": col.constant(f"MATURITY-{int(cal.year[m])}", len(customer)),
            "response_date": col.dates(day),
            "question_code": col.labels(QUESTION_CODES, question),
            "dimension": col.labels(DIMENSIONS, dimension),
            "score": col.ints(score),
        }
    )

{#-
  Methodology §9: survey(D) at M. The customer's newest survey response (by response_date, then the
  greater response_id) dated in the `survey_lookback_months` (24) months ending with M, over the
  responses of all of the customer's CRM accounts. survey(D) = 100 x (mean score - 1) / 4 over that
  response's questions of dimension D; missing when the response has no question of D (older
  responses are not consulted). Exact decimals.
-#}
{%- set lookback = segments_setting('maturity.survey_lookback_months', 1) -%}
{%- set dimensions = ['TECHNICAL_CAPABILITY', 'DIGITAL_ADOPTION', 'SOLUTION_COMPLEXITY', 'IT_STANDARDIZATION', 'GROWTH_APPETITE'] -%}

{{ config(**strata_by_month('segment')) }}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m
    where {{ strata_plan_months('m.month', 'segment') }}

),

answers as (

    select
        r.customer_no,
        r.response_id,
        r.response_date,
        r.dimension,
        r.score
    from {{ ref('int_crm_survey_responses') }} as r
    where r.customer_no <> {{ unassigned_customer() }}

),

responses as (

    select
        a.customer_no,
        a.response_id,
        max(a.response_date) as response_date
    from answers as a
    group by a.customer_no, a.response_id

),

candidates as (

    select
        m.month,
        m.month_index,
        r.customer_no,
        r.response_id,
        r.response_date,
        row_number() over (
            partition by m.month_index, r.customer_no
            order by r.response_date desc, r.response_id desc
        ) as recency
    from months as m
    inner join responses as r
        on {{ segments_in_window(segments_month_index('r.response_date'), 'm.month_index', months=lookback) }}

),

newest as (

    select c.month, c.month_index, c.customer_no, c.response_id, c.response_date
    from candidates as c
    where c.recency = 1

)

select
    n.month,
    n.month_index,
    n.customer_no,
    n.response_id as survey_response_id,
    n.response_date as survey_response_date
    {%- for d in dimensions %},
    {{ decimal_divide(
        '100 * (sum(case when a.dimension = ' ~ dbt.string_literal(d) ~ ' then a.score end) - count(case when a.dimension = ' ~ dbt.string_literal(d) ~ ' then a.score end))',
        '4 * count(case when a.dimension = ' ~ dbt.string_literal(d) ~ ' then a.score end)'
    ) }} as survey_{{ d | lower }}
    {%- endfor %}
from newest as n
inner join answers as a
    on a.customer_no = n.customer_no
   and a.response_id = n.response_id
group by n.month, n.month_index, n.customer_no, n.response_id, n.response_date

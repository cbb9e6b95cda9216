-- The profit waterfall per customer and month (methodology §3), UNASSIGNED included, unrounded
-- DECIMAL: every total sums unrounded amounts; only the published mart rounds. One row per month
-- and customer with any source data (the mart keeps those with a non-zero measure).
--   gross_sales   Σ net_amount_lcy of INVOICE lines     credits  Σ of CREDIT_MEMO lines
--   cogs          Σ cost_amount_lcy of INVOICE lines - Σ of CREDIT_MEMO lines
--   rebate_income Σ rebate_amount_lcy of APPROVED or PAID claims dated in the month
--   services_cost Σ hours × hourly_cost_lcy of billable time entries
--   gross_margin = net_revenue - cogs + rebate_income - services_cost
--   cost_to_serve = the eight activities; contribution_margin = gross_margin - cost_to_serve

{%- set activities = {
    'cts_order_entry': 'ORDER_ENTRY',
    'cts_warehouse': 'WAREHOUSE',
    'cts_returns': 'RETURNS',
    'cts_sales_coverage': 'SALES_COVERAGE',
    'cts_support_desk': 'SUPPORT_DESK',
    'cts_credit_collections': 'CREDIT_COLLECTIONS',
    'cts_net_freight': 'NET_FREIGHT',
    'cts_receivables_carrying': 'RECEIVABLES_CARRYING',
} %}
{%- set measures = ['gross_sales', 'credits', 'cogs', 'rebate_income', 'services_cost'] + (activities.keys() | list) %}
{%- set zero = to_money('0') %}

with parts as (

    select
        month,
        customer_no,
        case when document_type = 'INVOICE' then net_amount_lcy else {{ zero }} end as gross_sales,
        case when document_type = 'CREDIT_MEMO' then net_amount_lcy else {{ zero }} end as credits,
        {{ signed_by_document_type('cost_amount_lcy') }} as cogs,
        {%- for m in measures[3:] %}
        {{ zero }} as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_sales_lines') }}

    union all

    select
        month,
        customer_no,
        {%- for m in measures %}
        {% if m == 'rebate_income' %}rebate_amount_lcy{% else %}{{ zero }}{% endif %} as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_rebate_claims') }}
    where is_income

    union all

    select
        month,
        customer_no,
        {%- for m in measures %}
        {% if m == 'services_cost' %}cost_lcy{% else %}{{ zero }}{% endif %} as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_psa_time_entries') }}
    where billable

    union all

    select
        month,
        customer_no,
        {%- for m in measures %}
        {% if m in activities %}case when activity = '{{ activities[m] }}' then cost else {{ zero }} end{% else %}{{ zero }}{% endif %} as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_customer_cost_to_serve') }}

),

summed as (

    select
        month,
        customer_no,
        {%- for m in measures %}
        {{ to_money('sum(' ~ m ~ ')') }} as {{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from parts
    group by month, customer_no

),

waterfall as (

    select
        summed.*,
        {{ to_money('gross_sales - credits') }} as net_revenue,
        {{ to_money(activities.keys() | join(' + ')) }} as cost_to_serve
    from summed

),

margins as (

    select
        waterfall.*,
        {{ to_money('net_revenue - cogs + rebate_income - services_cost') }} as gross_margin
    from waterfall

)

select
    month,
    customer_no,
    gross_sales,
    credits,
    net_revenue,
    cogs,
    rebate_income,
    services_cost,
    gross_margin,
    {%- for m in activities %}
    {{ m }},
    {%- endfor %}
    cost_to_serve,
    {{ to_money('gross_margin - cost_to_serve') }} as contribution_margin
from margins

-- depends_on: {{ ref('int_fx_missing_rates') }}
-- (a month that uses a currency without a rate blocks the marts: the error test on that model
-- fails first and dbt build skips what depends on it)
--
-- The published profit waterfall per month and customer (methodology §3; marts.md), UNASSIGNED
-- included: a row where any measure is non-zero before rounding. Each money column is the
-- customer's unrounded total rounded to cents half away from zero, so a published total (e.g.
-- gross_margin) is the rounded exact total, not the sum of the rounded parts.
{{ config(**strata_by_month('fact')) }}

{%- set measures = [
    'gross_sales', 'credits', 'net_revenue', 'cogs', 'rebate_income', 'services_cost', 'gross_margin',
    'cts_order_entry', 'cts_warehouse', 'cts_returns', 'cts_sales_coverage', 'cts_support_desk',
    'cts_credit_collections', 'cts_net_freight', 'cts_receivables_carrying', 'cost_to_serve',
    'contribution_margin',
] %}

with profit as (

    select * from {{ ref('int_customer_profit_monthly') }}

)

select
    month,
    customer_no,
    {%- for m in measures %}
    {{ publish_money(m) }} as {{ m }}{{ "," if not loop.last }}
    {%- endfor %}
from profit
where {{ strata_plan_months('month', 'fact') }}
    and (
    {%- for m in measures %}
    {{ m }} <> 0{{ " or" if not loop.last }}
    {%- endfor %}
    )

-- Integrity (intermediate -> marts): revenue, COGS, rebate income, services cost and freight survive
-- to the marts. Per month and line item:
--   source     the sum straight from the intermediate source models (unrounded)
--   waterfall  the same measure summed over int_customer_profit_monthly (must equal source exactly;
--              freight: Σ net freight over the cost-to-serve activities)
--   published  margin_reconciliation's pipeline_amount (must equal source rounded to the cent)
--   fct        Σ of the rounded fct_customer_profit_monthly column: within half a cent per row
-- Returns the line items and months that differ. An incremental build compares the months it
-- recomputed (macros/test_scope.sql).

-- A test of several models is a Dagster asset check only with its asset named: fct_customer_profit_monthly.
{{ config(meta={'dagster': {'ref': {'name': 'fct_customer_profit_monthly'}}}) }}

with sales_lines as {{ inline_cte() }} (

    select * from {{ ref('int_sales_lines') }} where {{ strata_test_months('month', 'fact') }}

),

profit as {{ inline_cte() }} (

    select * from {{ ref('int_customer_profit_monthly') }} where {{ strata_test_months('month', 'fact') }}

),

fct as {{ inline_cte() }} (

    select * from {{ ref('fct_customer_profit_monthly') }} where {{ strata_test_months('month', 'fact') }}

),

source_lines as (

    select month, 'REVENUE' as line_item,
        sum(case when document_type = 'CREDIT_MEMO' then -net_amount_lcy else net_amount_lcy end) as amount
    from sales_lines group by month
    union all
    select month, 'COGS',
        sum(case when document_type = 'CREDIT_MEMO' then -cost_amount_lcy else cost_amount_lcy end)
    from sales_lines group by month
    union all
    select month, 'REBATE_INCOME', sum(rebate_amount_lcy)
    from {{ ref('int_rebate_claims') }} where is_income group by month
    union all
    select month, 'SERVICES_COST', sum(cost_lcy)
    from {{ ref('int_psa_time_entries') }} where billable group by month
    union all
    select month, 'NET_FREIGHT', sum(net_freight_lcy)
    from {{ ref('int_shipments') }} group by month

),

waterfall as (

    select month, 'REVENUE' as line_item, sum(net_revenue) as amount,
        sum(fct_net_revenue) as fct_amount, count(fct_net_revenue) as fct_rows
    from (
        select p.month, p.net_revenue, f.net_revenue as fct_net_revenue
        from profit as p
        left join fct as f
            on p.month = f.month and p.customer_no = f.customer_no
    ) as joined
    group by month
    {%- for measure, item in [('cogs', 'COGS'), ('rebate_income', 'REBATE_INCOME'),
                              ('services_cost', 'SERVICES_COST'), ('cts_net_freight', 'NET_FREIGHT')] %}
    union all
    select p.month, '{{ item }}', sum(p.{{ measure }}), sum(f.{{ measure }}), count(f.{{ measure }})
    from profit as p
    left join fct as f
        on p.month = f.month and p.customer_no = f.customer_no
    group by p.month
    {%- endfor %}

),

published as (

    select month, line_item, pipeline_amount
    from {{ ref('margin_reconciliation') }}
    where line_item in ('REVENUE', 'COGS', 'REBATE_INCOME', 'SERVICES_COST')
    union all
    select cost.month, 'NET_FREIGHT', cost.pipeline_amount - recovery.pipeline_amount
    from {{ ref('margin_reconciliation') }} as cost
    inner join {{ ref('margin_reconciliation') }} as recovery
        on cost.month = recovery.month
        and cost.line_item = 'FREIGHT_COST'
        and recovery.line_item = 'FREIGHT_RECOVERY'

)

select
    source_lines.month,
    source_lines.line_item,
    source_lines.amount as source_amount,
    waterfall.amount as waterfall_amount,
    published.pipeline_amount as published_amount,
    waterfall.fct_amount,
    waterfall.fct_rows
from source_lines
left join waterfall
    on source_lines.month = waterfall.month
    and source_lines.line_item = waterfall.line_item
left join published
    on source_lines.month = published.month
    and source_lines.line_item = published.line_item
where {{ strata_test_months('source_lines.month', 'fact') }} and (
    waterfall.amount is null
    or waterfall.amount <> source_lines.amount
    or published.pipeline_amount is null
    -- NET_FREIGHT is published as two rounded lines: allow their two half cents
    or abs(published.pipeline_amount - round(source_lines.amount, 2))
        > case when source_lines.line_item = 'NET_FREIGHT' then 0.01 else 0 end
    or abs(coalesce(waterfall.fct_amount, 0) - source_lines.amount) > 0.005 * waterfall.fct_rows + 0.000001
)

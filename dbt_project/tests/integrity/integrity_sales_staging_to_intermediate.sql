-- Integrity (staging -> intermediate): int_sales_lines keeps every staged line, its cost, and its
-- net amount converted at the posting month's rate (LCY at 1), recomputed here line by line from
-- the staged lines; per month and document type the counts and exact sums agree. Lines without a
-- rate are int_fx_missing_rates' business and left out on both sides. Returns the months that
-- differ. An incremental build compares the months it recomputed (macros/test_scope.sql).

-- A test of several models is a Dagster asset check only with its asset named: int_sales_lines.
{{ config(meta={'dagster': {'ref': {'name': 'int_sales_lines'}}}) }}

with rates as (

    select month, currency, rate_to_lcy from {{ ref('int_fx_rates') }}

),

staged as (

    select
        {{ month_end('lines.posting_date') }} as month,
        lines.document_type,
        count(*) as line_count,
        sum(case when lines.currency = {{ strata_lcy() }} then lines.net_amount
                 else {{ money_times('lines.net_amount', 'rates.rate_to_lcy') }} end) as net_amount_lcy,
        sum(lines.cost_amount_lcy) as cost_amount_lcy
    from {{ ref('stg_erp__sales_lines') }} as lines
    left join rates
        on {{ month_end('lines.posting_date') }} = rates.month
        and lines.currency = rates.currency
    where (lines.currency = {{ strata_lcy() }} or rates.rate_to_lcy is not null)
        and {{ strata_test_months(month_end('lines.posting_date'), 'sales') }}
    group by {{ month_end('lines.posting_date') }}, lines.document_type

),

intermediate as (

    select month, document_type, count(*) as line_count,
        sum(net_amount_lcy) as net_amount_lcy, sum(cost_amount_lcy) as cost_amount_lcy
    from {{ ref('int_sales_lines') }}
    where net_amount_lcy is not null and {{ strata_test_months('month', 'sales') }}
    group by month, document_type

)

select
    coalesce(staged.month, intermediate.month) as month,
    coalesce(staged.document_type, intermediate.document_type) as document_type,
    staged.line_count as staged_lines,
    intermediate.line_count as intermediate_lines,
    staged.net_amount_lcy as staged_net_amount_lcy,
    intermediate.net_amount_lcy as intermediate_net_amount_lcy,
    staged.cost_amount_lcy as staged_cost,
    intermediate.cost_amount_lcy as intermediate_cost
from staged
full outer join intermediate
    on staged.month = intermediate.month
    and staged.document_type = intermediate.document_type
where staged.month is null
    or intermediate.month is null
    or staged.line_count <> intermediate.line_count
    or staged.net_amount_lcy <> intermediate.net_amount_lcy
    or staged.cost_amount_lcy <> intermediate.cost_amount_lcy

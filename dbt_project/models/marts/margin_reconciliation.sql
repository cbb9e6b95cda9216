-- depends_on: {{ ref('int_fx_missing_rates') }}
--
-- The pipeline reconciled to the general ledger per month (methodology §5; marts.md). One row per
-- line item and month with data (source rows that feed the line, or a GL row):
--   REVENUE           Σ net_revenue (INVOICE - CREDIT_MEMO net_amount_lcy)
--   COGS              Σ cogs            REBATE_INCOME  Σ rebate_income (APPROVED, PAID)
--   SERVICES_COST     Σ services_cost   FREIGHT_COST   Σ freight_cost_lcy
--   FREIGHT_RECOVERY  Σ freight_charged_lcy
--   COST_POOL:<pool>  Σ allocated + unallocated + unused capacity (every pool-month with GL or
--                     driver units; unallocated_amount and unused_capacity_amount set here only)
--   OTHER             the GL amount only, NOT_RECONCILED (imputed costs are not reconciled at all)
-- unassigned_amount is the part of the pipeline amount on customer UNASSIGNED. gl_amount is 0
-- where the GL has no such row. difference = pipeline_amount - gl_amount as published (both
-- rounded to cents); OK where |difference| <= reconciliation.tolerance_lcy, else DIFFERENCE.

{%- set unassigned = "customer_no = " ~ unassigned_customer() %}

with pipeline as (

    select
        month,
        'REVENUE' as line_item,
        {{ to_money("sum(" ~ signed_by_document_type('net_amount_lcy') ~ ")") }} as pipeline_amount,
        {{ to_money("sum(case when " ~ unassigned ~ " then " ~ signed_by_document_type('net_amount_lcy')
            ~ " else 0 end)") }} as unassigned_amount,
        cast(null as {{ strata_money_type() }}) as unallocated_amount,
        cast(null as {{ strata_money_type() }}) as unused_capacity_amount
    from {{ ref('int_sales_lines') }}
    group by month

    union all

    select
        month,
        'COGS' as line_item,
        {{ to_money("sum(" ~ signed_by_document_type('cost_amount_lcy') ~ ")") }},
        {{ to_money("sum(case when " ~ unassigned ~ " then " ~ signed_by_document_type('cost_amount_lcy')
            ~ " else 0 end)") }},
        null,
        null
    from {{ ref('int_sales_lines') }}
    group by month

    union all

    select
        month,
        'REBATE_INCOME' as line_item,
        {{ to_money('sum(rebate_amount_lcy)') }},
        {{ to_money('sum(case when ' ~ unassigned ~ ' then rebate_amount_lcy else 0 end)') }},
        null,
        null
    from {{ ref('int_rebate_claims') }}
    where is_income
    group by month

    union all

    select
        month,
        'SERVICES_COST' as line_item,
        {{ to_money('sum(cost_lcy)') }},
        {{ to_money('sum(case when ' ~ unassigned ~ ' then cost_lcy else 0 end)') }},
        null,
        null
    from {{ ref('int_psa_time_entries') }}
    where billable
    group by month

    union all

    select
        month,
        'FREIGHT_COST' as line_item,
        {{ to_money('sum(freight_cost_lcy)') }},
        {{ to_money('sum(case when ' ~ unassigned ~ ' then freight_cost_lcy else 0 end)') }},
        null,
        null
    from {{ ref('int_shipments') }}
    group by month

    union all

    select
        month,
        'FREIGHT_RECOVERY' as line_item,
        {{ to_money('sum(freight_charged_lcy)') }},
        {{ to_money('sum(case when ' ~ unassigned ~ ' then freight_charged_lcy else 0 end)') }},
        null,
        null
    from {{ ref('int_shipments') }}
    group by month

    union all

    select
        month,
        {{ dbt.concat(["'COST_POOL:'", "cost_pool"]) }} as line_item,
        {{ to_money('allocated_amount + unallocated_amount + unused_capacity_amount') }},
        unassigned_amount,
        unallocated_amount,
        unused_capacity_amount
    from {{ ref('int_cost_pools') }}

),

gl_rows as (

    select
        {{ month_end('period_end') }} as month,
        case
            when account_category = 'COST_POOL'
                -- a COST_POOL row without a pool cannot be allocated: it shows, unreconciled
                then {{ dbt.concat(["'COST_POOL:'", "coalesce(cost_pool, 'UNSPECIFIED')"]) }}
            else account_category
        end as line_item,
        amount_lcy
    from {{ ref('stg_erp__gl_balances') }}

),

gl as (

    select month, line_item, {{ to_money('sum(amount_lcy)') }} as gl_amount
    from gl_rows
    group by month, line_item

),

line_months as (

    select month, line_item from pipeline
    union
    select month, line_item from gl

),

published as (

    select
        line_months.month,
        line_months.line_item,
        line_months.line_item = 'OTHER' as is_other,
        {{ publish_money('coalesce(pipeline.pipeline_amount, 0)') }} as pipeline_amount,
        {{ publish_money('coalesce(pipeline.unassigned_amount, 0)') }} as unassigned_amount,
        {{ publish_money('pipeline.unallocated_amount') }} as unallocated_amount,
        {{ publish_money('pipeline.unused_capacity_amount') }} as unused_capacity_amount,
        {{ publish_money('coalesce(gl.gl_amount, 0)') }} as gl_amount,
        {{ dbt.position("'COST_POOL:'", 'line_months.line_item') }} = 1 as is_cost_pool
    from line_months
    left join pipeline
        on line_months.month = pipeline.month
        and line_months.line_item = pipeline.line_item
    left join gl
        on line_months.month = gl.month
        and line_months.line_item = gl.line_item

),

compared as (

    select
        published.*,
        cast(pipeline_amount - gl_amount as decimal(18,2)) as difference_amount
    from published

)

select
    month,
    line_item,
    case when is_other then null else pipeline_amount end as pipeline_amount,
    case when is_other then null else unassigned_amount end as unassigned_amount,
    case when is_cost_pool then coalesce(unallocated_amount, cast(0 as decimal(18,2))) end as unallocated_amount,
    case when is_cost_pool then coalesce(unused_capacity_amount, cast(0 as decimal(18,2))) end as unused_capacity_amount,
    gl_amount,
    case when is_other then null else difference_amount end as difference,
    case
        when is_other then 'NOT_RECONCILED'
        when abs(difference_amount) <= {{ strata_decimal('reconciliation.tolerance_lcy') }} then 'OK'
        else 'DIFFERENCE'
    end as status
from compared

-- The driver units of each cost pool per customer and month (methodology §4), UNASSIGNED included;
-- only non-zero units are kept.
--   ORDER_ENTRY        Σ over INVOICE lines of the configured weight of the order channel
--   WAREHOUSE          INVOICE lines with is_drop_ship = false
--   RETURNS            CREDIT_MEMO lines with a return reason other than PRICE_ADJUSTMENT
--   SALES_COVERAGE     Σ duration_minutes of CRM activities
--   SUPPORT_DESK       Σ hours of non-billable PSA time entries
--   CREDIT_COLLECTIONS distinct INVOICE document_nos posted in the month
--                      + late_payment_weight × payment rows of the month paid after due_date
{{ config(**strata_by_month('fact')) }}

with sales_lines as {{ inline_cte() }} (

    select * from {{ ref('int_sales_lines') }}

),

units as (

    select
        month,
        customer_no,
        'ORDER_ENTRY' as cost_pool,
        sum({{ order_channel_weight('order_channel') }}) as driver_units
    from sales_lines
    where document_type = 'INVOICE'
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'WAREHOUSE' as cost_pool,
        {{ to_money('sum(case when is_drop_ship then 0 else 1 end)') }} as driver_units
    from sales_lines
    where document_type = 'INVOICE'
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'RETURNS' as cost_pool,
        {{ to_money('count(*)') }} as driver_units
    from sales_lines
    where document_type = 'CREDIT_MEMO'
        and (return_reason is null or return_reason <> {{ price_adjustment_reason() }})
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'SALES_COVERAGE' as cost_pool,
        {{ to_money('sum(duration_minutes)') }} as driver_units
    from {{ ref('int_crm_activities') }}
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'SUPPORT_DESK' as cost_pool,
        {{ to_money('sum(hours)') }} as driver_units
    from {{ ref('int_psa_time_entries') }}
    where not billable
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'CREDIT_COLLECTIONS' as cost_pool,
        {{ to_money('count(distinct document_no)') }} as driver_units
    from sales_lines
    where document_type = 'INVOICE'
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'CREDIT_COLLECTIONS' as cost_pool,
        {{ money_times('count(*)', strata_decimal('cost_to_serve.late_payment_weight')) }} as driver_units
    from {{ ref('int_payments') }}
    where is_late
    group by month, customer_no

),

summed as (

    select
        month,
        customer_no,
        cost_pool,
        {{ to_money('sum(driver_units)') }} as driver_units
    from units
    where {{ strata_plan_months('month', 'fact') }}
    group by month, customer_no, cost_pool

)

select month, customer_no, cost_pool, driver_units
from summed
where driver_units <> 0

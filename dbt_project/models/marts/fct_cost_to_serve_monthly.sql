-- depends_on: {{ ref('int_fx_missing_rates') }}
--
-- Cost to serve per month, customer and activity (methodology §4; marts.md): a row where the
-- driver units or the cost are non-zero before rounding. The six cost pools carry their driver
-- units and the pool's rate (cost per unit; empty where the pool stays unallocated because the GL
-- lacks it); the direct activities NET_FREIGHT and RECEIVABLES_CARRYING have neither.
{{ config(**strata_by_month('fact')) }}

with activities as (

    select * from {{ ref('int_customer_cost_to_serve') }}

)

select
    month,
    customer_no,
    activity,
    driver_units,
    cast(rate as double) as rate,
    {{ publish_money('cost') }} as cost
from activities
where {{ strata_plan_months('month', 'fact') }}
    and (coalesce(driver_units, 0) <> 0 or cost <> 0)

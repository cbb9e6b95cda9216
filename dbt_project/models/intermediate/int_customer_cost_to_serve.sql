-- Cost to serve per customer, month and activity (methodology §4), unrounded: the six allocated
-- cost pools (driver units, the pool's rate, the allocated cost) and the two direct activities
-- (no driver units, no rate): NET_FREIGHT = Σ (freight_cost_lcy - freight_charged_lcy) of the
-- month's shipments; RECEIVABLES_CARRYING = Σ carrying cost of the month's payment rows.
{{ config(**strata_by_month('fact')) }}

with activities as (

    select
        month,
        customer_no,
        cost_pool as activity,
        driver_units,
        rate,
        allocated_amount as cost
    from {{ ref('int_cost_allocation') }}

    union all

    select
        month,
        customer_no,
        'NET_FREIGHT' as activity,
        cast(null as {{ strata_money_type() }}) as driver_units,
        cast(null as {{ strata_money_type() }}) as rate,
        {{ to_money('sum(net_freight_lcy)') }} as cost
    from {{ ref('int_shipments') }}
    group by month, customer_no

    union all

    select
        month,
        customer_no,
        'RECEIVABLES_CARRYING' as activity,
        cast(null as {{ strata_money_type() }}) as driver_units,
        cast(null as {{ strata_money_type() }}) as rate,
        {{ to_money('sum(carrying_cost_lcy)') }} as cost
    from {{ ref('int_payments') }}
    group by month, customer_no

)

select month, customer_no, activity, driver_units, rate, cost
from activities
where {{ strata_plan_months('month', 'fact') }}

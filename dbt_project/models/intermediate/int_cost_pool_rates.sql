-- Each cost pool and month that has a GL amount or driver units (methodology §4), with what its
-- allocation needs:
--   gl_amount      Σ amount_lcy of the month's COST_POOL GL rows of the pool (NULL: the GL lacks it)
--   total_units    Σ driver units of all customers, UNASSIGNED included
--   capacity       the configured practical capacity (time-driven mode), else NULL
--   allocation_base the units the GL amount is spread over: the capacity in time-driven mode, else
--                  total_units; NULL when the pool stays unallocated (no GL, or no driver units)
--   rate           gl_amount / allocation_base (cost per driver unit)

with gl as (

    select
        {{ month_end('period_end') }} as month,
        cost_pool,
        {{ to_money('sum(amount_lcy)') }} as gl_amount
    from {{ ref('stg_erp__gl_balances') }}
    where account_category = 'COST_POOL'
        and cost_pool is not null  -- a pool-less COST_POOL row cannot be allocated: see margin_reconciliation
    group by {{ month_end('period_end') }}, cost_pool

),

units as (

    select month, cost_pool, {{ to_money('sum(driver_units)') }} as total_units
    from {{ ref('int_cost_driver_units') }}
    group by month, cost_pool

),

pool_months as (

    select month, cost_pool from gl
    union
    select month, cost_pool from units

),

joined as (

    select
        pool_months.month,
        pool_months.cost_pool,
        gl.gl_amount,
        coalesce(units.total_units, {{ to_money('0') }}) as total_units,
        {{ practical_capacity('pool_months.cost_pool') }} as capacity
    from pool_months
    left join gl
        on pool_months.month = gl.month
        and pool_months.cost_pool = gl.cost_pool
    left join units
        on pool_months.month = units.month
        and pool_months.cost_pool = units.cost_pool

),

based as (

    select
        joined.*,
        case
            when gl_amount is null then null
            when capacity is not null then capacity
            when total_units <> 0 then total_units
        end as allocation_base
    from joined

)

select
    month,
    cost_pool,
    gl_amount,
    total_units,
    capacity,
    allocation_base,
    {{ decimal_divide('gl_amount', 'allocation_base') }} as rate
from based

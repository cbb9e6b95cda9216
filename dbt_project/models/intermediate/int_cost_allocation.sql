-- The cost pools allocated to customers (methodology §4): each customer with driver units in a
-- pool and month gets units × GL amount / allocation base (Σ units of all customers, or the
-- practical capacity in time-driven mode), multiplied before dividing and computed as an exact
-- DECIMAL. A pool that stays unallocated (no GL, or no units) charges 0.
-- The units keep all 12 decimals (hours and weighted lines have them: rounding them to 6 lost
-- money, tests/reliability/test_allocation_property.py); the GL amount (cents) is taken to 6, so
-- the product is DECIMAL(38,18) and holds units x GL up to 10^20.
{{ config(**strata_by_month('fact')) }}

with units as (

    select month, customer_no, cost_pool, driver_units
    from {{ ref('int_cost_driver_units') }}
    where {{ strata_plan_months('month', 'fact') }}

),

pools as (

    select month, cost_pool, gl_amount, allocation_base, rate
    from {{ ref('int_cost_pool_rates') }}

)

select
    units.month,
    units.customer_no,
    units.cost_pool,
    units.driver_units,
    pools.rate,
    coalesce(
        {{ decimal_divide(
            "cast(units.driver_units as decimal(38,12)) * cast(pools.gl_amount as decimal(38,6))",
            'pools.allocation_base') }},
        {{ to_money('0') }}
    ) as allocated_amount
from units
inner join pools
    on units.month = pools.month
    and units.cost_pool = pools.cost_pool

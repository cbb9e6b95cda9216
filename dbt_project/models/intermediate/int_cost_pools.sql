-- Each cost pool and month with GL or driver units, and where its GL amount went (methodology §4-5):
--   allocated_amount        Σ charged to customers (UNASSIGNED included)
--   unassigned_amount       the part of it charged to UNASSIGNED
--   unallocated_amount      the GL amount of a pool without driver units (standard mode)
--   unused_capacity_amount  time-driven mode: GL amount - Σ charged (negative when the units
--                           exceed the practical capacity)
-- allocated + unallocated + unused = the GL amount (0 where the GL lacks the pool).

with pools as (

    select * from {{ ref('int_cost_pool_rates') }}

),

allocated as (

    select
        month,
        cost_pool,
        {{ to_money('sum(allocated_amount)') }} as allocated_amount,
        {{ to_money('sum(case when customer_no = ' ~ unassigned_customer() ~ ' then allocated_amount else 0 end)') }}
            as unassigned_amount
    from {{ ref('int_cost_allocation') }}
    group by month, cost_pool

),

joined as (

    select
        pools.month,
        pools.cost_pool,
        pools.gl_amount,
        pools.total_units,
        pools.capacity,
        pools.rate,
        coalesce(allocated.allocated_amount, {{ to_money('0') }}) as allocated_amount,
        coalesce(allocated.unassigned_amount, {{ to_money('0') }}) as unassigned_amount,
        pools.allocation_base
    from pools
    left join allocated
        on pools.month = allocated.month
        and pools.cost_pool = allocated.cost_pool

)

select
    month,
    cost_pool,
    gl_amount,
    total_units,
    capacity,
    rate,
    allocated_amount,
    unassigned_amount,
    case
        when gl_amount is not null and allocation_base is null then gl_amount
        else {{ to_money('0') }}
    end as unallocated_amount,
    case
        when gl_amount is not null and capacity is not null then {{ to_money('gl_amount - allocated_amount') }}
        else {{ to_money('0') }}
    end as unused_capacity_amount
from joined

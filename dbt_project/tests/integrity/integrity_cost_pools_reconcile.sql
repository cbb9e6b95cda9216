-- Integrity: allocation neither creates nor loses money. For every cost pool and month of the
-- ledger (raw layer, newest delivery):
--   raw GL amount = staged GL amount = Σ allocated + unallocated + unused capacity (int, exact sums
--   rounded to the cent) = margin_reconciliation's pipeline_amount and gl_amount;
--   Σ of fct_cost_to_serve_monthly's rounded costs is within half a cent per row of Σ allocated.
-- Pools the GL lacks must allocate nothing. (A COST_POOL GL row without a pool cannot be
-- allocated; margin_reconciliation shows it as COST_POOL:UNSPECIFIED, DIFFERENCE.) Returns the
-- pools and months that differ.

-- A test of several models is a Dagster asset check only with its asset named: margin_reconciliation.
{{ config(meta={'dagster': {'ref': {'name': 'margin_reconciliation'}}}) }}

with raw_gl as (

    select {{ month_end('period_end') }} as month, cost_pool, sum(amount_lcy) as amount
    from {{ source('erp', 'gl_balances') }} as r
    where account_category = 'COST_POOL'
        and cost_pool is not null
        and not exists (
            select 1 from {{ source('erp', 'gl_balances') }} as newer
            where newer.period_end = r.period_end
                and newer.account_code = r.account_code
                and newer._batch > r._batch
        )
    group by {{ month_end('period_end') }}, cost_pool

),

staged_gl as (

    select {{ month_end('period_end') }} as month, cost_pool, sum(amount_lcy) as amount
    from {{ ref('stg_erp__gl_balances') }}
    where account_category = 'COST_POOL'
        and cost_pool is not null
    group by {{ month_end('period_end') }}, cost_pool

),

allocated as (

    select month, cost_pool, sum(allocated_amount) as amount
    from {{ ref('int_cost_allocation') }}
    group by month, cost_pool

),

pools as (

    select
        pools.month,
        pools.cost_pool,
        pools.unallocated_amount,
        pools.unused_capacity_amount,
        coalesce(allocated.amount, 0) as allocated_amount
    from {{ ref('int_cost_pools') }} as pools
    left join allocated
        on pools.month = allocated.month
        and pools.cost_pool = allocated.cost_pool

),

published_costs as (

    select month, activity as cost_pool, sum(cost) as amount, count(*) as cost_rows
    from {{ ref('fct_cost_to_serve_monthly') }}
    group by month, activity

),

recon as (

    select month, line_item, pipeline_amount, gl_amount
    from {{ ref('margin_reconciliation') }}

),

compared as (

    select
        coalesce(raw_gl.month, pools.month) as month,
        coalesce(raw_gl.cost_pool, pools.cost_pool) as cost_pool,
        coalesce(raw_gl.amount, 0) as raw_gl_amount,
        coalesce(staged_gl.amount, 0) as staged_gl_amount,
        pools.allocated_amount + pools.unallocated_amount + pools.unused_capacity_amount as pipeline_amount,
        pools.allocated_amount,
        recon.pipeline_amount as published_pipeline_amount,
        recon.gl_amount as published_gl_amount,
        coalesce(published_costs.amount, 0) as published_costs,
        coalesce(published_costs.cost_rows, 0) as published_cost_rows
    from raw_gl
    full outer join pools
        on raw_gl.month = pools.month
        and raw_gl.cost_pool = pools.cost_pool
    left join staged_gl
        on coalesce(raw_gl.month, pools.month) = staged_gl.month
        and coalesce(raw_gl.cost_pool, pools.cost_pool) = staged_gl.cost_pool
    left join recon
        on coalesce(raw_gl.month, pools.month) = recon.month
        and {{ dbt.concat(["'COST_POOL:'", "coalesce(raw_gl.cost_pool, pools.cost_pool)"]) }} = recon.line_item
    left join published_costs
        on coalesce(raw_gl.month, pools.month) = published_costs.month
        and coalesce(raw_gl.cost_pool, pools.cost_pool) = published_costs.cost_pool

)

select *
from compared
where pipeline_amount is null
    or staged_gl_amount <> raw_gl_amount
    or round(pipeline_amount, 2) <> round(raw_gl_amount, 2)
    or published_pipeline_amount is null
    or published_pipeline_amount <> round(raw_gl_amount, 2)
    or published_gl_amount <> round(raw_gl_amount, 2)
    or abs(published_costs - allocated_amount) > 0.005 * published_cost_rows + 0.000001

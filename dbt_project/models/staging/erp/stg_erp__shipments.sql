-- stg_erp__shipments: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose ship_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('erp__shipments', 'ship_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'shipments') }}

),

renamed as (

    select
        cast(shipment_no as {{ dbt.type_string() }}) as shipment_no,
        cast(order_no as {{ dbt.type_string() }}) as order_no,
        cast(customer_no as {{ dbt.type_string() }}) as customer_no,
        cast(ship_date as date) as ship_date,
        cast(service_level as {{ dbt.type_string() }}) as service_level,
        cast(carrier as {{ dbt.type_string() }}) as carrier,
        cast(packages as {{ dbt.type_bigint() }}) as packages,
        cast(weight_kg as {{ strata_money_type() }}) as weight_kg,
        cast(freight_cost_lcy as {{ strata_money_type() }}) as freight_cost_lcy,
        cast(freight_charged_lcy as {{ strata_money_type() }}) as freight_charged_lcy,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['shipment_no'], 'ship_date', 'erp__shipments') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['shipment_no'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    shipment_no,
    order_no,
    customer_no,
    ship_date,
    service_level,
    carrier,
    packages,
    weight_kg,
    freight_cost_lcy,
    freight_charged_lcy,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('ship_date'), 'erp__shipments') }}

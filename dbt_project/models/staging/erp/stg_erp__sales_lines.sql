-- stg_erp__sales_lines: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose posting_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('erp__sales_lines', 'posting_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'sales_lines') }}

),

renamed as (

    select
        cast(document_type as {{ dbt.type_string() }}) as document_type,
        cast(document_no as {{ dbt.type_string() }}) as document_no,
        cast(line_no as {{ dbt.type_bigint() }}) as line_no,
        cast(posting_date as date) as posting_date,
        cast(order_no as {{ dbt.type_string() }}) as order_no,
        cast(customer_no as {{ dbt.type_string() }}) as customer_no,
        cast(item_no as {{ dbt.type_string() }}) as item_no,
        cast(quantity as {{ strata_money_type() }}) as quantity,
        cast(unit_price as {{ strata_money_type() }}) as unit_price,
        cast(line_discount_amount as {{ strata_money_type() }}) as line_discount_amount,
        cast(net_amount as {{ strata_money_type() }}) as net_amount,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(cost_amount_lcy as {{ strata_money_type() }}) as cost_amount_lcy,
        cast(order_channel as {{ dbt.type_string() }}) as order_channel,
        cast(is_drop_ship as {{ dbt.type_boolean() }}) as is_drop_ship,
        cast(warehouse_code as {{ dbt.type_string() }}) as warehouse_code,
        cast(return_reason as {{ dbt.type_string() }}) as return_reason,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['document_type', 'document_no', 'line_no'], 'posting_date', 'erp__sales_lines') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['document_type', 'document_no', 'line_no'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    document_type,
    document_no,
    line_no,
    posting_date,
    order_no,
    customer_no,
    item_no,
    quantity,
    unit_price,
    line_discount_amount,
    net_amount,
    currency,
    cost_amount_lcy,
    order_channel,
    is_drop_ship,
    warehouse_code,
    return_reason,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('posting_date'), 'erp__sales_lines') }}

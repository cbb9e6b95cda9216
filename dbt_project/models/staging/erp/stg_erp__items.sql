-- stg_erp__items: the newest erp/items snapshot (max _batch) is the current state.
-- Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'items') }}

),

newest as (

    select max(_batch) as newest_batch from source

),

renamed as (

    select
        cast(item_no as {{ dbt.type_string() }}) as item_no,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(vendor_name as {{ dbt.type_string() }}) as vendor_name,
        cast(product_family as {{ dbt.type_string() }}) as product_family,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(unit_of_measure as {{ dbt.type_string() }}) as unit_of_measure,
        cast(is_stocked as {{ dbt.type_boolean() }}) as is_stocked,
        _batch,
        _file,
        _line,
        _loaded_at
    from source
    where _batch = (select newest_batch from newest)

)

select * from renamed

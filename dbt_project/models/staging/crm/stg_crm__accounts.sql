-- stg_crm__accounts: the newest crm/accounts snapshot (max _batch) is the current state.
-- Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('crm', 'accounts') }}

),

newest as (

    select max(_batch) as newest_batch from source

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(erp_customer_no as {{ dbt.type_string() }}) as erp_customer_no,
        cast(industry as {{ dbt.type_string() }}) as industry,
        cast(employee_count as {{ dbt.type_bigint() }}) as employee_count,
        cast(owner_role as {{ dbt.type_string() }}) as owner_role,
        cast(created_date as date) as created_date,
        cast(is_deleted as {{ dbt.type_boolean() }}) as is_deleted,
        _batch,
        _file,
        _line,
        _loaded_at
    from source
    where _batch = (select newest_batch from newest)

)

select * from renamed

-- stg_psa__companies: the newest psa/companies snapshot (max _batch) is the current state.
-- Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('psa', 'companies') }}

),

newest as (

    select max(_batch) as newest_batch from source

),

renamed as (

    select
        cast(company_id as {{ dbt.type_bigint() }}) as company_id,
        cast(company_identifier as {{ dbt.type_string() }}) as company_identifier,
        cast(company_name as {{ dbt.type_string() }}) as company_name,
        cast(crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
        cast(erp_customer_no as {{ dbt.type_string() }}) as erp_customer_no,
        cast(status as {{ dbt.type_string() }}) as status,
        _batch,
        _file,
        _line,
        _loaded_at
    from source
    where _batch = (select newest_batch from newest)

)

select * from renamed

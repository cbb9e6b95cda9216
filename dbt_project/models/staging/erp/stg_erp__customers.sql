-- stg_erp__customers: the newest erp/customers snapshot (max _batch) is the current state.
-- Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'customers') }}

),

newest as (

    select max(_batch) as newest_batch from source

),

renamed as (

    select
        cast(customer_no as {{ dbt.type_string() }}) as customer_no,
        cast(customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(customer_group as {{ dbt.type_string() }}) as customer_group,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(payment_terms_days as {{ dbt.type_bigint() }}) as payment_terms_days,
        cast(credit_limit_lcy as {{ strata_money_type() }}) as credit_limit_lcy,
        cast(created_date as date) as created_date,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(parent_customer_no as {{ dbt.type_string() }}) as parent_customer_no,
        _batch,
        _file,
        _line,
        _loaded_at
    from source
    where _batch = (select newest_batch from newest)

)

select * from renamed

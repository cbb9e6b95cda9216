-- stg_psa__agreements: the newest psa/agreements snapshot (max _batch) is the current state.
-- Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('psa', 'agreements') }}

),

newest as (

    select max(_batch) as newest_batch from source

),

renamed as (

    select
        cast(agreement_id as {{ dbt.type_bigint() }}) as agreement_id,
        cast(company_id as {{ dbt.type_bigint() }}) as company_id,
        cast(agreement_type as {{ dbt.type_string() }}) as agreement_type,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(monthly_fee as {{ strata_money_type() }}) as monthly_fee,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(status as {{ dbt.type_string() }}) as status,
        _batch,
        _file,
        _line,
        _loaded_at
    from source
    where _batch = (select newest_batch from newest)

)

select * from renamed

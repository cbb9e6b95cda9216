-- stg_crm__opportunities: the newest version of each opportunity (latest last_modified_at; exact ties go to
-- the later batch, then the later line). Rename, cast and dedupe only; _extra is dropped.

with source as {{ inline_cte() }} (

    select * from {{ source('crm', 'opportunities') }}

),

renamed as (

    select
        cast(opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(created_date as date) as created_date,
        cast(close_date as date) as close_date,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(amount as {{ strata_money_type() }}) as amount,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(product_family as {{ dbt.type_string() }}) as product_family,
        cast(deal_type as {{ dbt.type_string() }}) as deal_type,
        cast(need_driver as {{ dbt.type_string() }}) as need_driver,
        cast(last_modified_at as {{ dbt.type_timestamp() }}) as last_modified_at,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

versioned as (

    {{ strata_version_ranks('renamed', ['opportunity_id'], 'last_modified_at desc, _batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    opportunity_id,
    account_id,
    created_date,
    close_date,
    stage,
    amount,
    currency,
    product_family,
    deal_type,
    need_driver,
    last_modified_at,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1

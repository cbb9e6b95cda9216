-- stg_erp__gl_balances: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose period_end was corrected into another month) keeps the newest delivery.

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'gl_balances') }}

),

renamed as (

    select
        cast(period_end as date) as period_end,
        cast(account_code as {{ dbt.type_string() }}) as account_code,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(account_category as {{ dbt.type_string() }}) as account_category,
        cast(cost_pool as {{ dbt.type_string() }}) as cost_pool,
        cast(amount_lcy as {{ strata_money_type() }}) as amount_lcy,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

versioned as (

    {{ strata_version_ranks('renamed', ['period_end', 'account_code'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    period_end,
    account_code,
    account_name,
    account_category,
    cost_pool,
    amount_lcy,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1

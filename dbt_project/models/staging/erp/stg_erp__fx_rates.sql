-- stg_erp__fx_rates: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose period_end was corrected into another month) keeps the newest delivery.

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'fx_rates') }}

),

renamed as (

    select
        cast(period_end as date) as period_end,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(rate_to_lcy as {{ strata_money_type() }}) as rate_to_lcy,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

versioned as (

    {{ strata_version_ranks('renamed', ['period_end', 'currency'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    period_end,
    currency,
    rate_to_lcy,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1

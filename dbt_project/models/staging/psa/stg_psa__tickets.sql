-- stg_psa__tickets: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose created_at was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('psa__tickets', 'created_at')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('psa', 'tickets') }}

),

renamed as (

    select
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(company_id as {{ dbt.type_bigint() }}) as company_id,
        cast(agreement_id as {{ dbt.type_bigint() }}) as agreement_id,
        cast(board as {{ dbt.type_string() }}) as board,
        cast(priority as {{ dbt.type_string() }}) as priority,
        cast(source as {{ dbt.type_string() }}) as source,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        cast(sla_met as {{ dbt.type_boolean() }}) as sla_met,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['ticket_id'], 'created_at', 'psa__tickets') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['ticket_id'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    ticket_id,
    company_id,
    agreement_id,
    board,
    priority,
    source,
    created_at,
    closed_at,
    sla_met,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('created_at'), 'psa__tickets') }}

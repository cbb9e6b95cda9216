-- stg_psa__time_entries: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose work_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('psa__time_entries', 'work_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('psa', 'time_entries') }}

),

renamed as (

    select
        cast(time_entry_id as {{ dbt.type_bigint() }}) as time_entry_id,
        cast(company_id as {{ dbt.type_bigint() }}) as company_id,
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(member_role as {{ dbt.type_string() }}) as member_role,
        cast(work_date as date) as work_date,
        cast(hours as {{ strata_money_type() }}) as hours,
        cast(billable as {{ dbt.type_boolean() }}) as billable,
        cast(hourly_cost_lcy as {{ strata_money_type() }}) as hourly_cost_lcy,
        cast(hourly_rate as {{ strata_money_type() }}) as hourly_rate,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['time_entry_id'], 'work_date', 'psa__time_entries') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['time_entry_id'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    time_entry_id,
    company_id,
    ticket_id,
    member_role,
    work_date,
    hours,
    billable,
    hourly_cost_lcy,
    hourly_rate,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('work_date'), 'psa__time_entries') }}

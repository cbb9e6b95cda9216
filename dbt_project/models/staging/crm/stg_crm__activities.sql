-- stg_crm__activities: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose activity_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('crm__activities', 'activity_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('crm', 'activities') }}

),

renamed as (

    select
        cast(activity_id as {{ dbt.type_string() }}) as activity_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(activity_date as date) as activity_date,
        cast(activity_type as {{ dbt.type_string() }}) as activity_type,
        cast(duration_minutes as {{ dbt.type_bigint() }}) as duration_minutes,
        cast(owner_role as {{ dbt.type_string() }}) as owner_role,
        cast(customer_attended as {{ dbt.type_boolean() }}) as customer_attended,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['activity_id'], 'activity_date', 'crm__activities') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['activity_id'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    activity_id,
    account_id,
    activity_date,
    activity_type,
    duration_minutes,
    owner_role,
    customer_attended,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('activity_date'), 'crm__activities') }}

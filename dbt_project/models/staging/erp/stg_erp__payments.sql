-- stg_erp__payments: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose payment_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('erp__payments', 'payment_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'payments') }}

),

renamed as (

    select
        cast(payment_no as {{ dbt.type_string() }}) as payment_no,
        cast(customer_no as {{ dbt.type_string() }}) as customer_no,
        cast(document_no as {{ dbt.type_string() }}) as document_no,
        cast(due_date as date) as due_date,
        cast(payment_date as date) as payment_date,
        cast(amount as {{ strata_money_type() }}) as amount,
        cast(currency as {{ dbt.type_string() }}) as currency,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['payment_no', 'document_no'], 'payment_date', 'erp__payments') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['payment_no', 'document_no'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    payment_no,
    customer_no,
    document_no,
    due_date,
    payment_date,
    amount,
    currency,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('payment_date'), 'erp__payments') }}

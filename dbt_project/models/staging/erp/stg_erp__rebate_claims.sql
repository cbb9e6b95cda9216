-- stg_erp__rebate_claims: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose claim_date was corrected into another month) keeps the newest delivery.
-- Incremental by month (docs/incremental.md): a build recomputes the months of this entity's changed rows.
{{ config(**strata_by_month('erp__rebate_claims', 'claim_date')) }}

with source as {{ inline_cte() }} (

    select * from {{ source('erp', 'rebate_claims') }}

),

renamed as (

    select
        cast(claim_no as {{ dbt.type_string() }}) as claim_no,
        cast(vendor_name as {{ dbt.type_string() }}) as vendor_name,
        cast(customer_no as {{ dbt.type_string() }}) as customer_no,
        cast(item_no as {{ dbt.type_string() }}) as item_no,
        cast(document_no as {{ dbt.type_string() }}) as document_no,
        cast(claim_date as date) as claim_date,
        cast(rebate_amount_lcy as {{ strata_money_type() }}) as rebate_amount_lcy,
        cast(status as {{ dbt.type_string() }}) as status,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

planned as (

    {{ strata_plan_versions('renamed', ['claim_no'], 'claim_date', 'erp__rebate_claims') }}

),

versioned as (

    {{ strata_version_ranks('planned', ['claim_no'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    claim_no,
    vendor_name,
    customer_no,
    item_no,
    document_no,
    claim_date,
    rebate_amount_lcy,
    status,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1
    and {{ strata_plan_months(month_end('claim_date'), 'erp__rebate_claims') }}

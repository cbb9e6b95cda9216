-- stg_crm__survey_responses: rename, cast and dedupe only; _extra is dropped. A key delivered in two batches
-- (a row whose response_date was corrected into another month) keeps the newest delivery.

with source as {{ inline_cte() }} (

    select * from {{ source('crm', 'survey_responses') }}

),

renamed as (

    select
        cast(response_id as {{ dbt.type_string() }}) as response_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(survey_id as {{ dbt.type_string() }}) as survey_id,
        cast(response_date as date) as response_date,
        cast(question_code as {{ dbt.type_string() }}) as question_code,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(score as {{ dbt.type_bigint() }}) as score,
        _batch,
        _file,
        _line,
        _loaded_at
    from source

),

versioned as (

    {{ strata_version_ranks('renamed', ['response_id', 'question_code'], '_batch desc, _loaded_at desc, _file desc, _line desc') }}

)

select
    response_id,
    account_id,
    survey_id,
    response_date,
    question_code,
    dimension,
    score,
    _batch,
    _file,
    _line,
    _loaded_at
from versioned
where version_rank = 1

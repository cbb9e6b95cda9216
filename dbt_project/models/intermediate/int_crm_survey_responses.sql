-- Maturity survey answers (one row per response and question) with the resolved customer.

with responses as (

    select * from {{ ref('stg_crm__survey_responses') }}

),

accounts as (

    select account_id, customer_no from {{ ref('int_crm_account_customers') }}

)

select
    responses.response_id,
    coalesce(accounts.customer_no, {{ unassigned_customer() }}) as customer_no,
    responses.survey_id,
    responses.response_date,
    responses.question_code,
    responses.dimension,
    responses.score
from responses
left join accounts
    on responses.account_id = accounts.account_id

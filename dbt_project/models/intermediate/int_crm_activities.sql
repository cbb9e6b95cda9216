-- CRM activities with their fiscal month and resolved customer (account crosswalk of the newest
-- snapshot; deleted, unmapped or unknown accounts -> UNASSIGNED).

with activities as (

    select * from {{ ref('stg_crm__activities') }}

),

accounts as (

    select account_id, customer_no from {{ ref('int_crm_account_customers') }}

)

select
    activities.activity_id,
    coalesce(accounts.customer_no, {{ unassigned_customer() }}) as customer_no,
    {{ month_end('activities.activity_date') }} as month,
    activities.activity_date,
    activities.activity_type,
    activities.duration_minutes,
    activities.customer_attended
from activities
left join accounts
    on activities.account_id = accounts.account_id

-- PSA company -> customer (methodology §2), from the newest companies snapshot, applied to all
-- history: its erp_customer_no when that names a known customer; else its crm_account_id through
-- int_crm_account_customers (so a soft-deleted or unmapped account gives UNASSIGNED); else
-- UNASSIGNED.

with companies as (

    select company_id, erp_customer_no, crm_account_id
    from {{ ref('stg_psa__companies') }}

),

customers as (

    select customer_no from {{ ref('int_customers') }}

),

accounts as (

    select account_id, customer_no from {{ ref('int_crm_account_customers') }}

)

select
    companies.company_id,
    coalesce(customers.customer_no, accounts.customer_no, {{ unassigned_customer() }}) as customer_no
from companies
left join customers
    on companies.erp_customer_no = customers.customer_no
left join accounts
    on companies.crm_account_id = accounts.account_id

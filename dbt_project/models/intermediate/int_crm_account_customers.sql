-- CRM account -> customer (methodology §2), from the newest accounts snapshot, applied to all
-- history: through erp_customer_no when it names a customer of the newest customer snapshot.
-- A soft-deleted account, an account without erp_customer_no and one whose erp_customer_no is not
-- a known customer map to UNASSIGNED. Several accounts may map to one customer.

with accounts as (

    select account_id, erp_customer_no, is_deleted
    from {{ ref('stg_crm__accounts') }}

),

customers as (

    select customer_no from {{ ref('int_customers') }}

)

select
    accounts.account_id,
    case
        when accounts.is_deleted then {{ unassigned_customer() }}
        when customers.customer_no is not null then customers.customer_no
        else {{ unassigned_customer() }}
    end as customer_no
from accounts
left join customers
    on accounts.erp_customer_no = customers.customer_no

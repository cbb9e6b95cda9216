-- The customers of the newest erp/customers snapshot: the ERP customer_no is the customer's master
-- key, and this snapshot gives its attributes for every month (methodology §2). UNASSIGNED is not a
-- row here: it is the customer of whatever resolves to none of these.

select
    customer_no,
    customer_name,
    customer_group,
    country,
    currency,
    payment_terms_days,
    status,
    created_date
from {{ ref('stg_erp__customers') }}

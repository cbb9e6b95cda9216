-- Vendor rebate claims with their fiscal month and resolved customer. Only APPROVED and PAID
-- claims are income (methodology §3); is_income marks them.

with claims as (

    select * from {{ ref('stg_erp__rebate_claims') }}

),

customers as (

    select customer_no from {{ ref('int_customers') }}

)

select
    claims.claim_no,
    coalesce(customers.customer_no, {{ unassigned_customer() }}) as customer_no,
    {{ month_end('claims.claim_date') }} as month,
    claims.claim_date,
    claims.status,
    claims.status in {{ sql_in_list(rebate_income_statuses()) }} as is_income,
    {{ to_money('claims.rebate_amount_lcy') }} as rebate_amount_lcy
from claims
left join customers
    on claims.customer_no = customers.customer_no

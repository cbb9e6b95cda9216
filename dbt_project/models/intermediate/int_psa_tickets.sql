-- PSA tickets with the resolved customer (company crosswalk) and the fiscal month of created_at
-- (a timestamp belongs to the month of its UTC date).

with tickets as (

    select * from {{ ref('stg_psa__tickets') }}

),

companies as (

    select company_id, customer_no from {{ ref('int_psa_company_customers') }}

)

select
    tickets.ticket_id,
    coalesce(companies.customer_no, {{ unassigned_customer() }}) as customer_no,
    {{ month_end('tickets.created_at') }} as month,
    tickets.created_at,
    tickets.source,
    tickets.board,
    tickets.priority
from tickets
left join companies
    on tickets.company_id = companies.company_id

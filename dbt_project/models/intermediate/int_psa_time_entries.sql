-- PSA time entries with their fiscal month and resolved customer (company crosswalk). Billable
-- hours are services cost (hours × hourly_cost_lcy, methodology §3); non-billable hours are the
-- SUPPORT_DESK driver (methodology §4).

with entries as (

    select * from {{ ref('stg_psa__time_entries') }}

),

companies as (

    select company_id, customer_no from {{ ref('int_psa_company_customers') }}

)

select
    entries.time_entry_id,
    coalesce(companies.customer_no, {{ unassigned_customer() }}) as customer_no,
    {{ month_end('entries.work_date') }} as month,
    entries.work_date,
    entries.billable,
    {{ to_money('entries.hours') }} as hours,
    {{ to_money('entries.hourly_cost_lcy') }} as hourly_cost_lcy,
    {{ money_times('entries.hours', 'entries.hourly_cost_lcy') }} as cost_lcy
from entries
left join companies
    on entries.company_id = companies.company_id

-- Every (month, currency) that a money column uses without a rate (methodology §1): a blocking
-- data-quality failure for that month. The test on this model (strata_expect_no_rows, severity
-- error) fails the build and names the month, currency and entity; the marts depend on this model,
-- so they are not built over a missing rate.
-- A row's month is that of its batch_by date; an opportunity's that of its newest version's
-- last_modified_at.

with used as (

    select {{ month_end('posting_date') }} as month, currency, 'erp/sales_lines' as entity
    from {{ ref('stg_erp__sales_lines') }}

    union all

    select {{ month_end('payment_date') }} as month, currency, 'erp/payments' as entity
    from {{ ref('stg_erp__payments') }}

    union all

    select {{ month_end('last_modified_at') }} as month, currency, 'crm/opportunities' as entity
    from {{ ref('stg_crm__opportunities') }}

),

rates as (

    select month, currency from {{ ref('int_fx_rates') }}

)

select
    used.month,
    used.currency,
    used.entity,
    count(*) as rows_without_rate
from used
left join rates
    on used.month = rates.month
    and used.currency = rates.currency
where rates.currency is null
    and (used.currency <> {{ strata_lcy() }} or used.currency is null)
group by used.month, used.currency, used.entity

-- The newest version of each CRM opportunity (latest last_modified_at, see the staging model),
-- with its resolved customer and its amount in LCY at the rate of that version's month
-- (methodology §1: the newest version is used for every month).

with opportunities as (

    select
        stg.*,
        {{ month_end('stg.last_modified_at') }} as version_month
    from {{ ref('stg_crm__opportunities') }} as stg

),

accounts as (

    select account_id, customer_no from {{ ref('int_crm_account_customers') }}

),

rates as (

    select month, currency, rate_to_lcy from {{ ref('int_fx_rates') }}

)

select
    opportunities.opportunity_id,
    coalesce(accounts.customer_no, {{ unassigned_customer() }}) as customer_no,
    opportunities.created_date,
    opportunities.close_date,
    opportunities.stage,
    {{ convert_to_lcy('opportunities.amount', 'opportunities.currency', 'rates.rate_to_lcy') }} as amount_lcy,
    opportunities.product_family,
    opportunities.deal_type,
    opportunities.need_driver
from opportunities
left join accounts
    on opportunities.account_id = accounts.account_id
left join rates
    on opportunities.version_month = rates.month
    and opportunities.currency = rates.currency

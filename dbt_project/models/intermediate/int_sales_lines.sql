-- One row per ERP sales line (INVOICE and CREDIT_MEMO, amounts as delivered: positive on both),
-- with its fiscal month, its resolved customer (a customer of the newest snapshot, else
-- UNASSIGNED), its item's product family (newest items snapshot; NULL if the item is unknown) and
-- net_amount in LCY at the rate of its posting month (methodology §1; LCY at 1).
-- Incremental by month: the `sales` months (its lines, their customers' and items' snapshot rows,
-- the month's FX rates), docs/incremental.md.
{{ config(**strata_by_month('sales')) }}

with lines as (

    select * from {{ ref('stg_erp__sales_lines') }}

),

customers as (

    select customer_no from {{ ref('int_customers') }}

),

items as (

    select item_no, product_family from {{ ref('stg_erp__items') }}

),

rates as (

    select month, currency, rate_to_lcy from {{ ref('int_fx_rates') }}

),

dated as (

    select
        lines.*,
        {{ month_end('lines.posting_date') }} as month
    from lines

)

select
    dated.month,
    dated.posting_date,
    coalesce(customers.customer_no, {{ unassigned_customer() }}) as customer_no,
    dated.document_type,
    dated.document_no,
    dated.line_no,
    dated.order_no,
    dated.item_no,
    items.product_family,
    dated.order_channel,
    dated.is_drop_ship,
    dated.return_reason,
    {{ convert_to_lcy('dated.net_amount', 'dated.currency', 'rates.rate_to_lcy') }} as net_amount_lcy,
    {{ to_money('dated.cost_amount_lcy') }} as cost_amount_lcy
from dated
left join customers
    on dated.customer_no = customers.customer_no
left join items
    on dated.item_no = items.item_no
left join rates
    on dated.month = rates.month
    and dated.currency = rates.currency
where {{ strata_plan_months('dated.month', 'sales') }}

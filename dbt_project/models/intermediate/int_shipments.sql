-- Shipments with their fiscal month and resolved customer, and net freight (methodology §4):
-- freight_cost_lcy - freight_charged_lcy (negative when freight is over-recovered).

with shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

customers as (

    select customer_no from {{ ref('int_customers') }}

)

select
    shipments.shipment_no,
    coalesce(customers.customer_no, {{ unassigned_customer() }}) as customer_no,
    {{ month_end('shipments.ship_date') }} as month,
    shipments.ship_date,
    {{ to_money('shipments.freight_cost_lcy') }} as freight_cost_lcy,
    {{ to_money('shipments.freight_charged_lcy') }} as freight_charged_lcy,
    {{ to_money('shipments.freight_cost_lcy - shipments.freight_charged_lcy') }} as net_freight_lcy
from shipments
left join customers
    on shipments.customer_no = customers.customer_no

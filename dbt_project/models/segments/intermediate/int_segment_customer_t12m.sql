{#-
  Methodology §6: the T12M facts of every customer active at M (T12M net_revenue > 0), for every
  segment month M. Money is summed over W(M) = M-11 .. M from the UNROUNDED profit waterfall
  (int_customer_profit_monthly), never from the rounded fct. Orders are the distinct order_no of
  the customer's INVOICE lines in W(M) (distinct over the window, not a sum of monthly counts);
  product families the distinct families of its INVOICE lines in W(M). UNASSIGNED never gets
  segments.
-#}

{{ config(**strata_by_month('segment')) }}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m
    where {{ strata_plan_months('m.month', 'segment') }}

),

profit as (

    select
        p.customer_no,
        {{ segments_month_index('p.month') }} as month_index,
        p.net_revenue,
        p.gross_margin,
        p.cost_to_serve,
        p.contribution_margin
    from {{ ref('int_customer_profit_monthly') }} as p
    where p.customer_no <> {{ unassigned_customer() }}
      and {{ segments_reaches_plan_windows(segments_month_index('p.month')) }}

),

-- Each customer with profit rows, at every segment month: where the window sums are read.
customer_segment_months as (

    select c.customer_no, m.month_index
    from (select distinct customer_no from profit) as c
    cross join months as m

),

{{ segments_sum_in_window('profit_t12m', 'profit', 'customer_segment_months', [
    'net_revenue', 'gross_margin', 'cost_to_serve', 'contribution_margin',
]) }},

money as (

    select
        m.month,
        m.month_index,
        t.customer_no,
        {{ to_money('t.net_revenue_t12m') }} as net_revenue_t12m,
        {{ to_money('t.gross_margin_t12m') }} as gross_margin_t12m,
        {{ to_money('t.cost_to_serve_t12m') }} as cost_to_serve_t12m,
        {{ to_money('t.contribution_margin_t12m') }} as contribution_margin_t12m
    from profit_t12m as t
    inner join months as m
        on m.month_index = t.month_index

),

invoice_lines as {{ inline_cte() }} (

    select
        sl.customer_no,
        {{ segments_month_index('sl.month') }} as month_index,
        sl.order_no,
        sl.product_family
    from {{ ref('int_sales_lines') }} as sl
    where sl.document_type = 'INVOICE'
      and {{ segments_reaches_plan_windows(segments_month_index('sl.month')) }}
      and sl.customer_no <> {{ unassigned_customer() }}

),

order_months as (

    select distinct il.customer_no, il.month_index, il.order_no
    from invoice_lines as il
    where il.order_no is not null

),

family_months as (

    select distinct il.customer_no, il.month_index, il.product_family
    from invoice_lines as il
    where il.product_family is not null

),

active_keys as (

    select mo.customer_no, mo.month_index
    from money as mo
    where mo.net_revenue_t12m > 0

),

{{ segments_count_in_window('window_orders', 'order_months', 'order_no', 'active_keys') }},

{{ segments_count_in_window('window_families', 'family_months', 'product_family', 'active_keys') }}

select
    mo.month,
    mo.month_index,
    mo.customer_no,
    mo.net_revenue_t12m,
    mo.gross_margin_t12m,
    mo.cost_to_serve_t12m,
    mo.contribution_margin_t12m,
    cast(o.distinct_items as bigint) as orders_t12m,
    cast(f.distinct_items as bigint) as product_families_t12m
from money as mo
inner join window_orders as o
    on o.month_index = mo.month_index and o.customer_no = mo.customer_no
inner join window_families as f
    on f.month_index = mo.month_index and f.customer_no = mo.customer_no
where mo.net_revenue_t12m > 0

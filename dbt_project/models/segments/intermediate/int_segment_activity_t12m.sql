{#-
  Methodology §9 and §10: the T12M behaviour of every customer active at M, over W(M):
  - INVOICE lines, and those ordered via a digital channel (maturity.digital_channels);
  - net revenue from the complex families (maturity.complex_families): INVOICE minus CREDIT_MEMO
    net_amount_lcy of lines whose item is in one of those families;
  - PSA tickets, and those from a monitoring source (maturity.monitoring_sources);
  - CRM activities with customer_attended = true;
  - opportunities created in W(M) (newest version), and those that carry a need_driver.
  Each is first counted per customer and month, then summed over the window.
-#}
{%- set digital = segments_setting('maturity.digital_channels', []) -%}
{%- set complex = segments_setting('maturity.complex_families', []) -%}
{%- set monitoring = segments_setting('maturity.monitoring_sources', []) -%}

{{ config(**strata_by_month('segment')) }}

with active as (

    select t.month, t.month_index, t.customer_no
    from {{ ref('int_segment_customer_t12m') }} as t
    where {{ strata_plan_months('t.month', 'segment') }}

),

sales_monthly as (

    select
        sl.customer_no,
        {{ segments_month_index('sl.month') }} as month_index,
        sum(case when sl.document_type = 'INVOICE' then 1 else 0 end) as invoice_lines,
        sum(case when sl.document_type = 'INVOICE' and {{ segments_in_list('sl.order_channel', digital) }} then 1 else 0 end)
            as digital_invoice_lines,
        {{ to_money(
            "sum(case when " ~ segments_in_list('sl.product_family', complex)
            ~ " then " ~ signed_by_document_type('sl.net_amount_lcy', 'sl.document_type') ~ " else 0 end)"
        ) }} as complex_net_revenue,
        0 as tickets,
        0 as monitoring_tickets,
        0 as attended_activities,
        0 as opportunities_created,
        0 as opportunities_with_driver
    from {{ ref('int_sales_lines') }} as sl
    where {{ segments_reaches_plan_windows(segments_month_index('sl.month')) }}
    group by sl.customer_no, {{ segments_month_index('sl.month') }}

),

tickets_monthly as (

    select
        t.customer_no,
        {{ segments_month_index('t.month') }} as month_index,
        0 as invoice_lines,
        0 as digital_invoice_lines,
        {{ to_money('0') }} as complex_net_revenue,
        count(*) as tickets,
        sum(case when {{ segments_in_list('t.source', monitoring) }} then 1 else 0 end) as monitoring_tickets,
        0 as attended_activities,
        0 as opportunities_created,
        0 as opportunities_with_driver
    from {{ ref('int_psa_tickets') }} as t
    where {{ segments_reaches_plan_windows(segments_month_index('t.month')) }}
    group by t.customer_no, {{ segments_month_index('t.month') }}

),

activities_monthly as (

    select
        a.customer_no,
        {{ segments_month_index('a.month') }} as month_index,
        0 as invoice_lines,
        0 as digital_invoice_lines,
        {{ to_money('0') }} as complex_net_revenue,
        0 as tickets,
        0 as monitoring_tickets,
        sum(case when a.customer_attended = true then 1 else 0 end) as attended_activities,
        0 as opportunities_created,
        0 as opportunities_with_driver
    from {{ ref('int_crm_activities') }} as a
    where {{ segments_reaches_plan_windows(segments_month_index('a.month')) }}
    group by a.customer_no, {{ segments_month_index('a.month') }}

),

opportunities_monthly as (

    select
        o.customer_no,
        {{ segments_month_index('o.created_date') }} as month_index,
        0 as invoice_lines,
        0 as digital_invoice_lines,
        {{ to_money('0') }} as complex_net_revenue,
        0 as tickets,
        0 as monitoring_tickets,
        0 as attended_activities,
        count(*) as opportunities_created,
        sum(case when o.need_driver is not null then 1 else 0 end) as opportunities_with_driver
    from {{ ref('int_crm_opportunities') }} as o
    where {{ segments_reaches_plan_windows(segments_month_index('o.created_date')) }}
    group by o.customer_no, {{ segments_month_index('o.created_date') }}

),

monthly as (

    select * from sales_monthly
    union all
    select * from tickets_monthly
    union all
    select * from activities_monthly
    union all
    select * from opportunities_monthly

),

{{ segments_sum_in_window('windowed', 'monthly', 'active', [
    'invoice_lines', 'digital_invoice_lines', 'complex_net_revenue', 'tickets',
    'monitoring_tickets', 'attended_activities', 'opportunities_created', 'opportunities_with_driver',
]) }}

select
    a.month,
    a.month_index,
    a.customer_no,
    cast(w.invoice_lines_t12m as bigint) as invoice_lines_t12m,
    cast(w.digital_invoice_lines_t12m as bigint) as digital_invoice_lines_t12m,
    {{ to_money('w.complex_net_revenue_t12m') }} as complex_net_revenue_t12m,
    cast(w.tickets_t12m as bigint) as tickets_t12m,
    cast(w.monitoring_tickets_t12m as bigint) as monitoring_tickets_t12m,
    cast(w.attended_activities_t12m as bigint) as attended_activities_t12m,
    cast(w.opportunities_created_t12m as bigint) as opportunities_created_t12m,
    cast(w.opportunities_with_driver_t12m as bigint) as opportunities_with_driver_t12m
from active as a
inner join windowed as w
    on w.month_index = a.month_index
   and w.customer_no = a.customer_no

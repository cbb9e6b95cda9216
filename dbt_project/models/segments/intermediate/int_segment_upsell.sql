{#-
  Methodology §11 (upsell / cross-sell): for every customer active at M, whether it bought in W(M)
  a product family (INVOICE lines) it did not buy in W(M-12), or won an UPSELL or CROSS_SELL
  opportunity (stage CLOSED_WON, close_date in W(M)). segment_kpis counts this among the retained
  customers of a cohort.
  Incremental by segment month: a change in W(M-12) is a sales change, and the plan recomputes
  every segment month at or after a changed sales month (docs/incremental.md).
-#}
{%- set lag = segments_cohort_lag() -%}

{{ config(**strata_by_month('segment')) }}

with active as (

    select t.month, t.month_index, t.customer_no
    from {{ ref('int_segment_customer_t12m') }} as t
    where {{ strata_plan_months('t.month', 'segment') }}

),

family_months as (

    select distinct
        sl.customer_no,
        {{ segments_month_index('sl.month') }} as month_index,
        sl.product_family
    from {{ ref('int_sales_lines') }} as sl
    where sl.document_type = 'INVOICE'
      and {{ segments_reaches_plan_windows(segments_month_index('sl.month'), lag=lag) }}
      and sl.product_family is not null

),

{{ segments_count_in_window('new_families', 'family_months', 'product_family', 'active', lag=lag) }},

won as (

    select a.month_index, a.customer_no, count(*) as won_upsell_cross_sell_opportunities
    from active as a
    inner join {{ ref('int_crm_opportunities') }} as o
        on o.customer_no = a.customer_no
       and o.stage = 'CLOSED_WON'
       and o.deal_type in ('UPSELL', 'CROSS_SELL')
       and {{ segments_in_window(segments_month_index('o.close_date'), 'a.month_index') }}
    group by a.month_index, a.customer_no

)

select
    a.month,
    a.month_index,
    a.customer_no,
    cast(n.distinct_items as bigint) as new_product_families,
    cast(coalesce(w.won_upsell_cross_sell_opportunities, 0) as bigint) as won_upsell_cross_sell_opportunities,
    case
        when n.distinct_items > 0 or coalesce(w.won_upsell_cross_sell_opportunities, 0) > 0
            then true
        else false
    end as is_upsell_cross_sell
from active as a
inner join new_families as n
    on n.month_index = a.month_index
   and n.customer_no = a.customer_no
left join won as w
    on w.month_index = a.month_index
   and w.customer_no = a.customer_no

{#-
  The assignments in long form: one row per month, active customer and segmentation (methodology
  §11 lists six), with the segment, its rank in the ordered segmentations (revenue_tier,
  maturity_tier; NULL for the others) and the customer's unrounded T12M sums that the KPIs add up.
-#}

{{ config(**strata_by_month('segment')) }}

{%- for segmentation in segments_segmentations() %}
select
    c.month,
    c.month_index,
    c.customer_no,
    cast({{ dbt.string_literal(segmentation) }} as {{ dbt.type_string() }}) as segmentation,
    c.{{ segmentation }} as segment,
    {{ segments_segment_rank(segmentation, 'c.' ~ segmentation) }} as segment_rank,
    c.net_revenue_t12m,
    c.gross_margin_t12m,
    c.cost_to_serve_t12m,
    c.contribution_margin_t12m,
    c.orders_t12m,
    c.is_upsell_cross_sell
from {{ ref('int_segment_customers') }} as c
where {{ strata_plan_months('c.month', 'segment') }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}

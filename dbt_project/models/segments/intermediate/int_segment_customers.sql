{#-
  Every segment assignment (methodology §6-10), unrounded: one row per month M and customer active
  at M, with the T12M facts, every percentile and score, the six segments and the configuration
  version. customer_segments publishes it (money rounded to cents); segment_kpis and
  segment_transitions read it through int_segment_assignments.
-#}

{{ config(**strata_by_month('segment')) }}

select
    s.month,
    s.month_index,
    s.customer_no,
    c.customer_name,
    c.customer_group,
    s.net_revenue_t12m,
    s.gross_margin_t12m,
    s.cost_to_serve_t12m,
    s.contribution_margin_t12m,
    s.orders_t12m,
    s.product_families_t12m,
    s.topline_score,
    s.profitability_score,
    s.stratum,
    s.profitability_quadrant,
    s.revenue_tier,
    m.maturity_score,
    m.maturity_tier,
    m.appetite_score,
    m.maturity_segment,
    n.needs_group,
    {{ segments_config_version() }} as config_version,
    -- why the customer landed where it did
    s.net_revenue_percentile,
    s.orders_percentile,
    s.product_families_percentile,
    s.contribution_margin_percentile,
    s.contribution_margin_pct_percentile,
    s.contribution_margin_pct_t12m,
    s.portfolio_contribution_margin_pct,
    s.revenue_share_before,
    m.technical_capability,
    m.digital_adoption,
    m.solution_complexity,
    m.it_standardization,
    m.purchasing_volume,
    m.survey_response_id,
    m.survey_growth_appetite,
    m.attended_activities_t12m,
    m.attended_activities_percentile,
    m.opportunities_created_t12m,
    m.opportunities_created_percentile,
    n.need_capture_rate,
    u.is_upsell_cross_sell
from {{ ref('int_segment_strata') }} as s
inner join {{ ref('int_segment_maturity') }} as m
    on m.month_index = s.month_index
   and m.customer_no = s.customer_no
inner join {{ ref('int_segment_needs') }} as n
    on n.month_index = s.month_index
   and n.customer_no = s.customer_no
inner join {{ ref('int_segment_upsell') }} as u
    on u.month_index = s.month_index
   and u.customer_no = s.customer_no
left join {{ ref('int_customers') }} as c
    on c.customer_no = s.customer_no
where {{ strata_plan_months('s.month', 'segment') }}

{#-
  Published: one row per month M and customer active at M (methodology §6-10). Money is the T12M
  sum of the unrounded waterfall, rounded to cents only here; after marts.md's columns come the
  factors' percentiles and the inputs of every score, so anyone can see why a customer landed where
  it did. The predicted value (§13) comes last: columns are added at the end, never moved.
-#}

select
    c.month,
    c.customer_no,
    c.customer_name,
    c.customer_group,
    {{ publish_money('c.net_revenue_t12m') }} as net_revenue_t12m,
    {{ publish_money('c.gross_margin_t12m') }} as gross_margin_t12m,
    {{ publish_money('c.cost_to_serve_t12m') }} as cost_to_serve_t12m,
    {{ publish_money('c.contribution_margin_t12m') }} as contribution_margin_t12m,
    cast(c.orders_t12m as bigint) as orders_t12m,
    cast(c.product_families_t12m as bigint) as product_families_t12m,
    {{ segments_to_double('c.topline_score') }} as topline_score,
    {{ segments_to_double('c.profitability_score') }} as profitability_score,
    c.stratum,
    c.profitability_quadrant,
    c.revenue_tier,
    {{ segments_to_double('c.maturity_score') }} as maturity_score,
    c.maturity_tier,
    {{ segments_to_double('c.appetite_score') }} as appetite_score,
    c.maturity_segment,
    c.needs_group,
    c.config_version,
    {{ segments_to_double('c.net_revenue_percentile') }} as net_revenue_percentile,
    {{ segments_to_double('c.orders_percentile') }} as orders_percentile,
    {{ segments_to_double('c.product_families_percentile') }} as product_families_percentile,
    {{ segments_to_double('c.contribution_margin_percentile') }} as contribution_margin_percentile,
    {{ segments_to_double('c.contribution_margin_pct_percentile') }} as contribution_margin_pct_percentile,
    {{ segments_to_double('c.contribution_margin_pct_t12m') }} as contribution_margin_pct_t12m,
    {{ segments_to_double('c.portfolio_contribution_margin_pct') }} as portfolio_contribution_margin_pct,
    {{ segments_to_double('c.revenue_share_before') }} as revenue_share_before,
    {{ segments_to_double('c.technical_capability') }} as technical_capability,
    {{ segments_to_double('c.digital_adoption') }} as digital_adoption,
    {{ segments_to_double('c.solution_complexity') }} as solution_complexity,
    {{ segments_to_double('c.it_standardization') }} as it_standardization,
    {{ segments_to_double('c.purchasing_volume') }} as purchasing_volume,
    c.survey_response_id,
    {{ segments_to_double('c.survey_growth_appetite') }} as survey_growth_appetite,
    cast(c.attended_activities_t12m as bigint) as attended_activities_t12m,
    {{ segments_to_double('c.attended_activities_percentile') }} as attended_activities_percentile,
    cast(c.opportunities_created_t12m as bigint) as opportunities_created_t12m,
    {{ segments_to_double('c.opportunities_created_percentile') }} as opportunities_created_percentile,
    {{ segments_to_double('c.need_capture_rate') }} as need_capture_rate,
    c.is_upsell_cross_sell,
    cp.p_alive,
    cp.expected_orders_12m,
    {{ publish_money('cp.expected_order_value') }} as expected_order_value,
    {{ publish_money('cp.predicted_net_revenue_12m') }} as predicted_net_revenue_12m,
    {{ publish_money('cp.predicted_contribution_margin_12m') }} as predicted_contribution_margin_12m,
    cp.churn_risk
from {{ ref('int_segment_customers') }} as c
left join {{ ref('int_clv_customer_predictions') }} as cp
    on cp.month_index = c.month_index
   and cp.customer_no = c.customer_no

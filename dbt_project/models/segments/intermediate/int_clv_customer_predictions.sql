{#-
  Methodology §13: the predicted value of every customer active at M (the customers of
  customer_segments), from the fits of the Dagster asset clv_fits (source clv.customer_predictions).
  predicted_contribution_margin_12m = predicted net revenue × T12M contribution margin / T12M net
  revenue (exact decimal quotient; empty when T12M net revenue is 0). churn_risk compares p_alive
  with the configured cuts, both sides rounded like every ratio (§6). Where a month's fit failed
  the predictions are empty and so is everything here.
-#}
{%- set high_below = segments_strata_setting('predicted_value.churn_risk_high_below', 0) -%}
{%- set medium_below = segments_strata_setting('predicted_value.churn_risk_medium_below', 0) -%}

with customers as (

    select c.month, c.month_index, c.customer_no, c.net_revenue_t12m, c.contribution_margin_t12m
    from {{ ref('int_segment_customer_t12m') }} as c

),

predictions as (

    select
        p.month,
        p.customer_no,
        {{ segments_to_double('p.p_alive') }} as p_alive,
        {{ segments_to_double('p.expected_orders') }} as expected_orders_12m,
        {{ to_money('p.expected_order_value') }} as expected_order_value,
        {{ to_money('p.predicted_net_revenue') }} as predicted_net_revenue_12m
    from {{ source('clv', 'customer_predictions') }} as p

)

select
    c.month,
    c.month_index,
    c.customer_no,
    p.p_alive,
    p.expected_orders_12m,
    p.expected_order_value,
    p.predicted_net_revenue_12m,
    {{ decimal_divide(money_times('p.predicted_net_revenue_12m', 'c.contribution_margin_t12m'), 'c.net_revenue_t12m') }}
        as predicted_contribution_margin_12m,
    case
        when p.p_alive is null then cast(null as {{ dbt.type_string() }})
        when {{ segments_ratio('p.p_alive') }} < {{ segments_cut(high_below) }} then 'HIGH'
        when {{ segments_ratio('p.p_alive') }} < {{ segments_cut(medium_below) }} then 'MEDIUM'
        else 'LOW'
    end as churn_risk
from customers as c
left join predictions as p
    on p.month = c.month
   and p.customer_no = c.customer_no

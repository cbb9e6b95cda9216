{#-
  Methodology §13's backtest: how well the occasions predicted at a month came true. For every
  segment month F with predictions and every customer active at F, the expected occasions over the
  horizon (h = predicted_value.horizon_months) against the occasions it really had in the h months
  after F (F+1 … F+h, counted from int_clv_inputs at F+h minus at F), with its stratum and maturity
  segment at F. Only horizons that have fully happened (F+h is a segment month) are in.
-#}
{%- set horizon = segments_strata_setting('predicted_value.horizon_months', 12) -%}

with predicted as (

    select cp.month, cp.month_index, cp.customer_no, cp.expected_orders_12m, cp.p_alive, cp.churn_risk
    from {{ ref('int_clv_customer_predictions') }} as cp
    where cp.expected_orders_12m is not null

),

inputs as (

    select i.month_index, i.customer_no, i.occasions
    from {{ ref('int_clv_inputs') }} as i

)

select
    p.month as fitted_month,
    later.month as month,
    p.customer_no,
    c.stratum,
    c.maturity_segment,
    p.p_alive,
    p.churn_risk,
    p.expected_orders_12m as predicted_occasions,
    cast(coalesce(after_h.occasions, 0) - coalesce(at_f.occasions, 0) as bigint) as actual_occasions
from predicted as p
inner join {{ ref('int_segment_months') }} as later
    on later.month_index = p.month_index + {{ horizon }}
inner join {{ ref('int_segment_customers') }} as c
    on c.month_index = p.month_index
   and c.customer_no = p.customer_no
left join inputs as at_f
    on at_f.month_index = p.month_index
   and at_f.customer_no = p.customer_no
left join inputs as after_h
    on after_h.month_index = later.month_index
   and after_h.customer_no = p.customer_no

{#-
  Methodology §7 (strata) and §8 (profitability quadrant, revenue tier) for the active customers
  at M. Percentile rank = percent_rank() over the active customers at M, ascending, ties sharing
  the lowest rank, 0 when there is one customer. Ratios (margin %, shares) are exact decimals;
  every comparison of a ratio with a cut or another ratio rounds both sides (segments_ratio).
-#}
{%- set topline_weights = segments_setting('strata.topline.weights', {}) -%}
{%- set topline_cut = segments_setting('strata.topline.high_cut', 0) -%}
{%- set profitability_weights = segments_setting('strata.profitability.weights', {}) -%}
{%- set profitability_cut = segments_setting('strata.profitability.high_cut', 0) -%}
{%- set revenue_cut = segments_setting('quadrant.revenue_percentile_cut', 0) -%}
{%- set tier_high = segments_setting('revenue_tier.high_cumulative_share', 0) -%}
{%- set tier_medium = segments_setting('revenue_tier.medium_cumulative_share', 0) -%}

{{ config(**strata_by_month('segment')) }}

with active as (

    select * from {{ ref('int_segment_customer_t12m') }}
    where {{ strata_plan_months('month', 'segment') }}

),

sums as (

    select
        a.*,
        sum(a.contribution_margin_t12m) over (partition by a.month_index) as portfolio_contribution_margin,
        sum(a.net_revenue_t12m) over (partition by a.month_index) as portfolio_net_revenue,
        coalesce(sum(a.net_revenue_t12m) over (
            partition by a.month_index
            order by a.net_revenue_t12m desc, a.customer_no
            rows between unbounded preceding and 1 preceding
        ), 0) as net_revenue_before
    from active as a

),

ratios as (

    select
        s.*,
        {{ decimal_divide('s.contribution_margin_t12m', 's.net_revenue_t12m') }} as contribution_margin_pct_t12m,
        {{ decimal_divide('s.portfolio_contribution_margin', 's.portfolio_net_revenue') }} as portfolio_contribution_margin_pct,
        {{ decimal_divide('s.net_revenue_before', 's.portfolio_net_revenue') }} as revenue_share_before
    from sums as s

),

ranked as (

    select
        r.*,
        percent_rank() over (partition by r.month_index order by r.net_revenue_t12m) as net_revenue_percentile,
        percent_rank() over (partition by r.month_index order by r.orders_t12m) as orders_percentile,
        percent_rank() over (partition by r.month_index order by r.product_families_t12m) as product_families_percentile,
        percent_rank() over (partition by r.month_index order by r.contribution_margin_t12m) as contribution_margin_percentile,
        percent_rank() over (
            partition by r.month_index order by {{ segments_ratio('r.contribution_margin_pct_t12m') }}
        ) as contribution_margin_pct_percentile
    from ratios as r

),

scored as (

    select
        k.*,
        {{ segments_weighted_mean(segments_parts(topline_weights, {
            'net_revenue': 'k.net_revenue_percentile',
            'orders': 'k.orders_percentile',
            'product_families': 'k.product_families_percentile',
        })) }} as topline_score,
        {{ segments_weighted_mean(segments_parts(profitability_weights, {
            'contribution_margin': 'k.contribution_margin_percentile',
            'contribution_margin_pct': 'k.contribution_margin_pct_percentile',
        })) }} as profitability_score
    from ranked as k

),

flagged as (

    select
        s.*,
        case when {{ segments_ratio('s.topline_score') }} >= {{ segments_cut(topline_cut) }}
            then true else false end as is_topline_high,
        case when {{ segments_ratio('s.profitability_score') }} >= {{ segments_cut(profitability_cut) }}
                  and s.contribution_margin_t12m > 0
            then true else false end as is_profitability_high,
        case when {{ segments_ratio('s.net_revenue_percentile') }} >= {{ segments_cut(revenue_cut) }}
            then true else false end as is_revenue_high,
        case when {{ segments_ratio('s.contribution_margin_pct_t12m') }} >= {{ segments_ratio('s.portfolio_contribution_margin_pct') }}
            then true else false end as is_margin_high
    from scored as s

)

select
    f.month,
    f.month_index,
    f.customer_no,
    f.net_revenue_t12m,
    f.gross_margin_t12m,
    f.cost_to_serve_t12m,
    f.contribution_margin_t12m,
    f.orders_t12m,
    f.product_families_t12m,
    f.contribution_margin_pct_t12m,
    f.portfolio_contribution_margin_pct,
    f.revenue_share_before,
    {{ segments_to_double('f.net_revenue_percentile') }} as net_revenue_percentile,
    {{ segments_to_double('f.orders_percentile') }} as orders_percentile,
    {{ segments_to_double('f.product_families_percentile') }} as product_families_percentile,
    {{ segments_to_double('f.contribution_margin_percentile') }} as contribution_margin_percentile,
    {{ segments_to_double('f.contribution_margin_pct_percentile') }} as contribution_margin_pct_percentile,
    f.topline_score,
    f.profitability_score,
    case
        when f.is_topline_high and f.is_profitability_high then 'CORE'
        when f.is_topline_high then 'SERVICE_DRAIN'
        when f.is_profitability_high then 'OPPORTUNISTIC'
        else 'MARGINAL'
    end as stratum,
    case
        when f.is_revenue_high and f.is_margin_high then 'NURTURE_AND_RETAIN'
        when f.is_revenue_high then 'OPTIMIZE_AND_MOVE_RIGHT'
        when f.is_margin_high then 'GROW_AND_MOVE_UP'
        else 'FIRE_OR_MOVE_RIGHT'
    end as profitability_quadrant,
    case
        when {{ segments_ratio('f.revenue_share_before') }} < {{ segments_cut(tier_high) }} then 'HIGH'
        when {{ segments_ratio('f.revenue_share_before') }} < {{ segments_cut(tier_medium) }} then 'MEDIUM'
        else 'LOW'
    end as revenue_tier
from flagged as f

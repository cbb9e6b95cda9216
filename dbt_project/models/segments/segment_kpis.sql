{#-
  Published: methodology §11. One row per segment month M, segmentation and segment with customers
  at M or at M-12, plus the segment ALL (every active customer) of each segmentation.
  - sums are T12M sums of the unrounded facts over the segment's customers at M (0 over none);
  - contribution_margin_pct and aov are ratios of the segment's sums; aov and cltv are money
    (exact decimal quotients, rounded to cents half away from zero);
  - the cohort of a segment is its customers at M-12: retention = share active at M; upsell /
    cross-sell = share of the retained with a new family or a won UPSELL / CROSS_SELL deal;
    migration up / down (ordered segmentations only) and changed = share of the cohort with a
    segment at M that is now higher / lower / any other; ALL has no migration or changed rate;
  - every cohort KPI is empty where M-12 has no assignment;
  - cltv = (contribution_margin / customers) x r / (1 + d - r), r = retention capped, computed
    exactly: uncapped r = k / n gives cm x k / (customers x (n (1 + d) - k));
  - *_yoy_change = value at M / value at M-12 - 1 for the same segment (unrounded values);
  - §13: predicted_contribution_margin_12m sums the customers' predictions, at_risk_customers counts
    churn_risk HIGH; both empty for a month whose fit failed (0 for a segment without customers).
-#}
{%- set lag = segments_cohort_lag() -%}
{%- set cap = strata_decimal_literal(segments_strata_setting('kpis.cltv.retention_cap', 0)) -%}
{%- set one_plus_d = '(1 + ' ~ strata_decimal_literal(segments_strata_setting('kpis.cltv.discount_rate', 0)) ~ ')' -%}
{%- set ordered = ['revenue_tier', 'maturity_tier'] -%}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m

),

assignments as (

    select
        a.*,
        cp.predicted_contribution_margin_12m as clv_predicted_contribution_margin,
        cp.churn_risk as clv_churn_risk
    from {{ ref('int_segment_assignments') }} as a
    left join {{ ref('int_clv_customer_predictions') }} as cp
        on cp.month_index = a.month_index
       and cp.customer_no = a.customer_no

),

-- Months whose fits gave numbers: BG/NBD (p_alive) and Gamma-Gamma (the predicted margin).
clv_months as (

    select
        cp.month_index,
        case when count(cp.p_alive) > 0 then true else false end as has_p_alive,
        case when count(cp.predicted_contribution_margin_12m) > 0 then true else false end as has_predicted_value
    from {{ ref('int_clv_customer_predictions') }} as cp
    group by cp.month_index

),

segmentations as (

    {%- for s in segments_segmentations() %}
    select cast({{ dbt.string_literal(s) }} as {{ dbt.type_string() }}) as segmentation
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

members as (

    select
        a.month_index, a.customer_no, a.segmentation, a.segment, a.segment_rank,
        a.net_revenue_t12m, a.gross_margin_t12m, a.cost_to_serve_t12m, a.contribution_margin_t12m,
        a.orders_t12m, a.is_upsell_cross_sell, a.clv_predicted_contribution_margin, a.clv_churn_risk
    from assignments as a
    where a.segment is not null

    union all

    select
        a.month_index, a.customer_no, a.segmentation, 'ALL' as segment, cast(null as integer) as segment_rank,
        a.net_revenue_t12m, a.gross_margin_t12m, a.cost_to_serve_t12m, a.contribution_margin_t12m,
        a.orders_t12m, a.is_upsell_cross_sell, a.clv_predicted_contribution_margin, a.clv_churn_risk
    from assignments as a

),

assigned_months as (

    select distinct a.month_index
    from assignments as a

),

current_totals as (

    select
        mb.month_index,
        mb.segmentation,
        mb.segment,
        count(*) as customers,
        sum(mb.net_revenue_t12m) as net_revenue,
        sum(mb.gross_margin_t12m) as gross_margin,
        sum(mb.cost_to_serve_t12m) as cost_to_serve,
        sum(mb.contribution_margin_t12m) as contribution_margin,
        sum(mb.orders_t12m) as orders,
        sum(mb.clv_predicted_contribution_margin) as predicted_contribution_margin,
        sum(case when mb.clv_churn_risk = 'HIGH' then 1 else 0 end) as at_risk_customers
    from members as mb
    group by mb.month_index, mb.segmentation, mb.segment

),

cohort as (

    select
        m.month_index,
        p.segmentation,
        p.segment,
        p.customer_no,
        p.segment_rank as rank_before,
        c.customer_no as customer_now,
        c.segment as segment_now,
        c.segment_rank as rank_now,
        c.is_upsell_cross_sell
    from months as m
    inner join members as p
        on p.month_index = m.month_index - {{ lag }}
    left join assignments as c
        on c.month_index = m.month_index
       and c.customer_no = p.customer_no
       and c.segmentation = p.segmentation

),

cohort_totals as (

    select
        ch.month_index,
        ch.segmentation,
        ch.segment,
        count(*) as cohort_customers,
        sum(case when ch.customer_now is not null then 1 else 0 end) as retained_customers,
        sum(case when ch.customer_now is not null and ch.is_upsell_cross_sell then 1 else 0 end) as upsell_customers,
        sum(case when ch.segment_now is not null then 1 else 0 end) as followed_customers,
        sum(case when ch.segment_now is not null and ch.rank_now > ch.rank_before then 1 else 0 end) as moved_up,
        sum(case when ch.segment_now is not null and ch.rank_now < ch.rank_before then 1 else 0 end) as moved_down,
        sum(case when ch.segment_now is not null and ch.segment_now <> ch.segment then 1 else 0 end) as changed
    from cohort as ch
    group by ch.month_index, ch.segmentation, ch.segment

),

universe as (

    select m.month_index, s.segmentation, cast('ALL' as {{ dbt.type_string() }}) as segment
    from months as m
    cross join segmentations as s

    union

    select t.month_index, t.segmentation, t.segment
    from current_totals as t
    where t.segment <> 'ALL'

    union

    select t.month_index, t.segmentation, t.segment
    from cohort_totals as t
    where t.segment <> 'ALL'

),

base as (

    select
        m.month,
        u.month_index,
        u.segmentation,
        u.segment,
        cast(coalesce(ct.customers, 0) as bigint) as customers,
        {{ to_money('coalesce(ct.net_revenue, 0)') }} as net_revenue,
        {{ to_money('coalesce(ct.gross_margin, 0)') }} as gross_margin,
        {{ to_money('coalesce(ct.cost_to_serve, 0)') }} as cost_to_serve,
        {{ to_money('coalesce(ct.contribution_margin, 0)') }} as contribution_margin,
        cast(coalesce(ct.orders, 0) as bigint) as orders,
        case when am.month_index is not null then true else false end as has_cohort,
        cast(coalesce(ch.cohort_customers, 0) as bigint) as cohort_customers,
        cast(coalesce(ch.retained_customers, 0) as bigint) as retained_customers,
        cast(coalesce(ch.upsell_customers, 0) as bigint) as upsell_customers,
        cast(coalesce(ch.followed_customers, 0) as bigint) as followed_customers,
        cast(coalesce(ch.moved_up, 0) as bigint) as moved_up,
        cast(coalesce(ch.moved_down, 0) as bigint) as moved_down,
        cast(coalesce(ch.changed, 0) as bigint) as changed,
        case when cm.has_predicted_value then {{ to_money('coalesce(ct.predicted_contribution_margin, 0)') }} end
            as predicted_contribution_margin_12m,
        case when cm.has_p_alive then cast(coalesce(ct.at_risk_customers, 0) as bigint) end as at_risk_customers
    from universe as u
    inner join months as m
        on m.month_index = u.month_index
    left join current_totals as ct
        on ct.month_index = u.month_index
       and ct.segmentation = u.segmentation
       and ct.segment = u.segment
    left join cohort_totals as ch
        on ch.month_index = u.month_index
       and ch.segmentation = u.segmentation
       and ch.segment = u.segment
    left join assigned_months as am
        on am.month_index = u.month_index - {{ lag }}
    left join clv_months as cm
        on cm.month_index = u.month_index

),

rates as (

    select
        b.*,
        case when b.has_cohort then {{ segments_rate('b.retained_customers', 'b.cohort_customers') }} end
            as retention_rate,
        case when b.has_cohort then {{ segments_rate('b.upsell_customers', 'b.retained_customers') }} end
            as upsell_cross_sell_rate,
        case when b.has_cohort and b.segment <> 'ALL' and b.segmentation in ('{{ ordered | join("', '") }}')
            then {{ segments_rate('b.moved_up', 'b.followed_customers') }} end as migration_up_rate,
        case when b.has_cohort and b.segment <> 'ALL' and b.segmentation in ('{{ ordered | join("', '") }}')
            then {{ segments_rate('b.moved_down', 'b.followed_customers') }} end as migration_down_rate,
        case when b.has_cohort and b.segment <> 'ALL'
            then {{ segments_rate('b.changed', 'b.followed_customers') }} end as changed_rate,
        -- r capped at retention_cap: compared as ratios, both sides rounded
        case when b.has_cohort and b.cohort_customers > 0 then
            case when {{ segments_ratio(decimal_divide('b.retained_customers', 'b.cohort_customers')) }} >= {{ segments_ratio(cap) }}
                then true else false end
        end as is_retention_capped,
        {{ decimal_divide('b.net_revenue', 'b.orders') }} as aov_exact
    from base as b

),

values_exact as (

    select
        r.*,
        case
            when r.is_retention_capped is null then cast(null as {{ strata_money_type() }})
            when r.is_retention_capped then {{ decimal_divide(
                'r.contribution_margin * ' ~ cap,
                'r.customers * (' ~ one_plus_d ~ ' - ' ~ cap ~ ')') }}
            else {{ decimal_divide(
                'r.contribution_margin * r.retained_customers',
                'r.customers * (r.cohort_customers * ' ~ one_plus_d ~ ' - r.retained_customers)') }}
        end as cltv_exact
    from rates as r

)

select
    v.month,
    v.segmentation,
    v.segment,
    v.customers,
    {{ publish_money('v.net_revenue') }} as net_revenue,
    {{ publish_money('v.gross_margin') }} as gross_margin,
    {{ publish_money('v.cost_to_serve') }} as cost_to_serve,
    {{ publish_money('v.contribution_margin') }} as contribution_margin,
    {{ segments_rate('v.contribution_margin', 'v.net_revenue') }} as contribution_margin_pct,
    {{ publish_money('v.aov_exact') }} as aov,
    v.retention_rate,
    v.upsell_cross_sell_rate,
    v.migration_up_rate,
    v.migration_down_rate,
    v.changed_rate,
    {{ publish_money('v.cltv_exact') }} as cltv,
    case when v.orders > 0 and p.orders > 0
        then {{ segments_rate('v.net_revenue * p.orders', 'v.orders * p.net_revenue') }} - 1
    end as aov_yoy_change,
    {{ segments_rate('v.cltv_exact', 'p.cltv_exact') }} - 1 as cltv_yoy_change,
    v.orders,
    v.cohort_customers,
    v.retained_customers,
    {{ segments_config_version() }} as config_version,
    {{ publish_money('v.predicted_contribution_margin_12m') }} as predicted_contribution_margin_12m,
    v.at_risk_customers
from values_exact as v
left join values_exact as p
    on p.month_index = v.month_index - {{ lag }}
   and p.segmentation = v.segmentation
   and p.segment = v.segment

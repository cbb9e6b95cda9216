{#-
  Methodology §9: maturity dimensions, maturity_score and tier, appetite_score and the maturity
  segment of every customer active at M.

  Dimensions (0-100), each the mean of whichever of its parts exist:
    technical_capability  survey(TECHNICAL_CAPABILITY)
    digital_adoption      survey(DIGITAL_ADOPTION); 100 x share of T12M INVOICE lines via a digital
                          channel (exists when the customer has T12M INVOICE lines)
    solution_complexity   survey(SOLUTION_COMPLEXITY); 100 x share of T12M net revenue from the
                          complex families (clamped to 0-100); 100 x (product families - 1) / 4
                          (clamped to 0-100: no family at all counts 0, not -25)
    it_standardization    survey(IT_STANDARDIZATION); 100 x share of T12M tickets from a monitoring
                          source (exists when the customer has T12M tickets)
    purchasing_volume     100 x percentile rank of T12M net_revenue
  maturity_score = weighted mean of the dimensions that exist (weights renormalised).
  appetite_score = weighted mean of survey(GROWTH_APPETITE), 100 x percentile rank of T12M attended
  activities, 100 x percentile rank of opportunities created in W(M).
-#}
{%- set dimension_weights = segments_setting('maturity.dimension_weights', {}) -%}
{%- set tiers = segments_setting('maturity.tiers', {}) -%}
{%- set appetite_weights = segments_setting('appetite.weights', {}) -%}
{%- set maturity_cut = segments_setting('maturity_segment.maturity_cut', 0) -%}
{%- set appetite_cut = segments_setting('maturity_segment.appetite_cut', 0) -%}

{{ config(**strata_by_month('segment')) }}

with strata as (

    select
        s.month,
        s.month_index,
        s.customer_no,
        s.net_revenue_t12m,
        s.product_families_t12m,
        s.net_revenue_percentile
    from {{ ref('int_segment_strata') }} as s
    where {{ strata_plan_months('s.month', 'segment') }}

),

activity as (

    select * from {{ ref('int_segment_activity_t12m') }}
    where {{ strata_plan_months('month', 'segment') }}

),

survey as (

    select * from {{ ref('int_segment_survey_scores') }}
    where {{ strata_plan_months('month', 'segment') }}

),

parts as (

    select
        s.month,
        s.month_index,
        s.customer_no,
        v.survey_response_id,
        v.survey_technical_capability,
        v.survey_digital_adoption,
        v.survey_solution_complexity,
        v.survey_it_standardization,
        v.survey_growth_appetite,
        {{ decimal_divide('100 * a.digital_invoice_lines_t12m', 'a.invoice_lines_t12m') }} as digital_order_share,
        greatest({{ to_money('0') }}, least({{ to_money('100') }},
            {{ decimal_divide('100 * a.complex_net_revenue_t12m', 's.net_revenue_t12m') }}
        )) as complex_revenue_share,
        greatest({{ to_money('0') }}, least({{ to_money('100') }},
            {{ decimal_divide('100 * (s.product_families_t12m - 1)', '4') }}
        )) as product_family_breadth,
        {{ decimal_divide('100 * a.monitoring_tickets_t12m', 'a.tickets_t12m') }} as monitoring_ticket_share,
        100 * s.net_revenue_percentile as purchasing_volume,
        a.attended_activities_t12m,
        a.opportunities_created_t12m,
        percent_rank() over (partition by s.month_index order by a.attended_activities_t12m)
            as attended_activities_percentile,
        percent_rank() over (partition by s.month_index order by a.opportunities_created_t12m)
            as opportunities_created_percentile
    from strata as s
    inner join activity as a
        on a.month_index = s.month_index
       and a.customer_no = s.customer_no
    left join survey as v
        on v.month_index = s.month_index
       and v.customer_no = s.customer_no

),

dimensions as (

    select
        p.*,
        {{ segments_weighted_mean([['p.survey_technical_capability', 1]]) }} as technical_capability,
        {{ segments_weighted_mean([['p.survey_digital_adoption', 1], ['p.digital_order_share', 1]]) }}
            as digital_adoption,
        {{ segments_weighted_mean([
            ['p.survey_solution_complexity', 1], ['p.complex_revenue_share', 1], ['p.product_family_breadth', 1]
        ]) }} as solution_complexity,
        {{ segments_weighted_mean([['p.survey_it_standardization', 1], ['p.monitoring_ticket_share', 1]]) }}
            as it_standardization
    from parts as p

),

scores as (

    select
        d.*,
        {{ segments_weighted_mean(segments_parts(dimension_weights, {
            'technical_capability': 'd.technical_capability',
            'digital_adoption': 'd.digital_adoption',
            'solution_complexity': 'd.solution_complexity',
            'it_standardization': 'd.it_standardization',
            'purchasing_volume': 'd.purchasing_volume',
        })) }} as maturity_score,
        {{ segments_weighted_mean(segments_parts(appetite_weights, {
            'growth_appetite_survey': 'd.survey_growth_appetite',
            'attended_activities': '100 * d.attended_activities_percentile',
            'opportunities_created': '100 * d.opportunities_created_percentile',
        })) }} as appetite_score
    from dimensions as d

)

select
    s.month,
    s.month_index,
    s.customer_no,
    s.survey_response_id,
    {{ segments_to_double('s.survey_technical_capability') }} as survey_technical_capability,
    {{ segments_to_double('s.survey_digital_adoption') }} as survey_digital_adoption,
    {{ segments_to_double('s.survey_solution_complexity') }} as survey_solution_complexity,
    {{ segments_to_double('s.survey_it_standardization') }} as survey_it_standardization,
    {{ segments_to_double('s.survey_growth_appetite') }} as survey_growth_appetite,
    {{ segments_to_double('s.digital_order_share') }} as digital_order_share,
    {{ segments_to_double('s.complex_revenue_share') }} as complex_revenue_share,
    {{ segments_to_double('s.product_family_breadth') }} as product_family_breadth,
    {{ segments_to_double('s.monitoring_ticket_share') }} as monitoring_ticket_share,
    {{ segments_to_double('s.technical_capability') }} as technical_capability,
    {{ segments_to_double('s.digital_adoption') }} as digital_adoption,
    {{ segments_to_double('s.solution_complexity') }} as solution_complexity,
    {{ segments_to_double('s.it_standardization') }} as it_standardization,
    {{ segments_to_double('s.purchasing_volume') }} as purchasing_volume,
    s.attended_activities_t12m,
    s.opportunities_created_t12m,
    {{ segments_to_double('s.attended_activities_percentile') }} as attended_activities_percentile,
    {{ segments_to_double('s.opportunities_created_percentile') }} as opportunities_created_percentile,
    s.maturity_score,
    {{ segments_tier('s.maturity_score', tiers) }} as maturity_tier,
    s.appetite_score,
    case
        when s.maturity_score is null or s.appetite_score is null then null
        when {{ segments_ratio('s.maturity_score') }} >= {{ segments_cut(maturity_cut) }}
             and {{ segments_ratio('s.appetite_score') }} >= {{ segments_cut(appetite_cut) }}
            then 'TRANSFORM'
        when {{ segments_ratio('s.appetite_score') }} >= {{ segments_cut(appetite_cut) }}
            then 'MODERNIZE'
        when {{ segments_ratio('s.maturity_score') }} >= {{ segments_cut(maturity_cut) }}
            then 'EDUCATE'
        else 'SUSTAIN'
    end as maturity_segment
from scores as s

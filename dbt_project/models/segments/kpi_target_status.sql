{#-
  Published: methodology §12. Every configured target (kpis.targets: kpi, segmentation, segments,
  low, high) for every listed segment and every segment month: the KPI's published value and MET
  (inside the inclusive bounds, both sides rounded like every ratio comparison), MISSED, or NO_DATA
  (the KPI is empty, or the segment has no row that month).
-#}
{%- set targets = segments_strata_setting('kpis.targets', []) -%}
{%- set kpis = ['customers', 'net_revenue', 'gross_margin', 'cost_to_serve', 'contribution_margin',
                'contribution_margin_pct', 'aov', 'retention_rate', 'upsell_cross_sell_rate',
                'migration_up_rate', 'migration_down_rate', 'changed_rate', 'cltv', 'aov_yoy_change',
                'cltv_yoy_change'] -%}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m

),

targets as (

    {%- set rows = [] -%}
    {%- for t in targets -%}{%- for s in t['segments'] -%}{%- do rows.append([t, s]) -%}{%- endfor -%}{%- endfor -%}
    {%- for t, s in rows %}
    select
        cast({{ dbt.string_literal(t['segmentation']) }} as {{ dbt.type_string() }}) as segmentation,
        cast({{ dbt.string_literal(s) }} as {{ dbt.type_string() }}) as segment,
        cast({{ dbt.string_literal(t['kpi']) }} as {{ dbt.type_string() }}) as kpi,
        {{ segments_to_double(strata_decimal_literal(t.get('low'))) }} as target_low,
        {{ segments_to_double(strata_decimal_literal(t.get('high'))) }} as target_high,
        {{ loop.index }} as target_order
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if rows | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as segmentation,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as kpi,
        cast(null as {{ segments_double_type() }}) as target_low,
        cast(null as {{ segments_double_type() }}) as target_high,
        0 as target_order
    where 1 = 0
    {%- endif %}

),

kpi_values as (

    {%- for k in kpis %}
    select
        sk.month,
        sk.segmentation,
        sk.segment,
        cast({{ dbt.string_literal(k) }} as {{ dbt.type_string() }}) as kpi,
        {{ segments_to_double('sk.' ~ k) }} as value
    from {{ ref('segment_kpis') }} as sk
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

judged as (

    select
        m.month,
        t.segmentation,
        t.segment,
        t.kpi,
        v.value,
        t.target_low,
        t.target_high
    from months as m
    cross join targets as t
    left join kpi_values as v
        on v.month = m.month
       and v.segmentation = t.segmentation
       and v.segment = t.segment
       and v.kpi = t.kpi

)

select
    j.month,
    j.segmentation,
    j.segment,
    j.kpi,
    j.value,
    j.target_low,
    j.target_high,
    case
        when j.value is null then 'NO_DATA'
        when (j.target_low is null or {{ segments_ratio('j.value') }} >= {{ segments_ratio('j.target_low') }})
         and (j.target_high is null or {{ segments_ratio('j.value') }} <= {{ segments_ratio('j.target_high') }})
            then 'MET'
        else 'MISSED'
    end as status,
    {{ segments_config_version() }} as config_version
from judged as j

{#-
  Helpers of the segments part (methodology §6-12). Every weight, cut, bound and window length is
  read from var('strata') through strata_setting() (macros/strata_settings.sql); these macros only
  give each rule one place in the code.
-#}

{#-
  A setting of the configuration (var('strata')). When models run, the setting must be there (a
  missing one stops the run with its name: no silent default); `default` only stands in while dbt
  parses the project without vars.
-#}
{% macro segments_strata_setting(path, default=none) -%}
    {%- if execute -%}
        {{ return(strata_setting(path)) }}
    {%- else -%}
        {{ return(strata_setting(path, default)) }}
    {%- endif -%}
{%- endmacro %}

{#- A setting under `segments.` of the configuration. -#}
{% macro segments_setting(path, default=none) -%}
    {{ return(segments_strata_setting('segments.' ~ path, default)) }}
{%- endmacro %}

{#- The configuration version, as a quoted literal: stamped on every assignment row. -#}
{% macro segments_config_version() -%}
    {%- set version = var('config_version') if execute else var('config_version', 'unversioned') -%}
    {{ return(dbt.string_literal(version | string)) }}
{%- endmacro %}

{#- The DOUBLE type of scores, percentile ranks, percentages and rates (marts.md). -#}
{% macro segments_double_type() -%}
    {{ return(adapter.dispatch('segments_double_type', 'strata')()) }}
{%- endmacro %}
{% macro default__segments_double_type() -%}double{%- endmacro %}
{% macro postgres__segments_double_type() -%}double precision{%- endmacro %}

{% macro segments_to_double(expr) -%}
    cast({{ expr }} as {{ segments_double_type() }})
{%- endmacro %}

{#- A calendar month as one integer (year * 12 + month - 1): windows become integer ranges. -#}
{% macro segments_month_index(date_expr) -%}
    cast((extract(year from {{ date_expr }}) * 12 + extract(month from {{ date_expr }}) - 1) as bigint)
{%- endmacro %}

{#-
  The trailing window W(M) of `months` months ending with M (default: segments.window_months),
  as a condition on month indexes. `offset` shifts the window back (offset=12: W(M-12)).
-#}
{% macro segments_in_window(month_index, m_index, months=none, offset=0) -%}
    {%- set n = months if months is not none else segments_setting('window_months', 1) -%}
    {{ month_index }} between {{ m_index }} - {{ offset + n - 1 }} and {{ m_index }} - {{ offset }}
{%- endmacro %}

{#-
  The lag of the cohort and year-over-year KPIs (methodology §11: "M-12", the same month a year
  earlier). A definition, not a tunable: year over year is twelve months.
-#}
{% macro segments_cohort_lag() -%}{{ return(12) }}{%- endmacro %}

{#-
  Methodology §6: every comparison of a computed ratio (scores, percentile ranks, shares, margin %)
  with a cut or another ratio rounds both sides to `ratio_decimals` first. DECIMAL ratios round
  exactly; DOUBLE ones lose the floating-point noise below the 9th place.
-#}
{% macro segments_ratio(expr) -%}
    round({{ expr }}, {{ segments_setting('ratio_decimals', 0) }})
{%- endmacro %}

{#- A cut from the configuration, rounded the same way (an exact decimal literal, never a float). -#}
{% macro segments_cut(value) -%}
    {{ segments_ratio(strata_decimal_literal(value)) }}
{%- endmacro %}

{#-
  Weighted mean of the parts that exist: `parts` is a list of [sql_expression, weight]. A part whose
  expression is NULL drops out and the remaining weights are renormalised; NULL when no part with a
  positive weight exists. Used for the top-line and profitability scores (every part exists),
  maturity dimensions (equal weights), maturity_score and appetite_score (methodology §7, §9).
-#}
{% macro segments_weighted_mean(parts) -%}
    {%- set live = [] -%}
    {%- for p in parts -%}
        {%- if p[1] is not none and p[1] | float > 0 -%}{%- do live.append(p) -%}{%- endif -%}
    {%- endfor -%}
    {%- if live | length == 0 -%}
    cast(null as {{ segments_double_type() }})
    {%- else -%}
    (
        (
        {%- for p in live %}
            coalesce({{ segments_to_double(p[0]) }} * {{ p[1] | float }}, 0){% if not loop.last %} +{% endif %}
        {%- endfor %}
        ) / nullif(
        {%- for p in live %}
            (case when ({{ p[0] }}) is not null then {{ p[1] | float }} else 0 end){% if not loop.last %} +{% endif %}
        {%- endfor %}
        , 0)
    )
    {%- endif -%}
{%- endmacro %}

{#- The weights of a configured dict as [[expression, weight], ...] in the order of `names`. -#}
{% macro segments_parts(weights, exprs) -%}
    {%- set parts = [] -%}
    {%- for name, expr in exprs.items() -%}
        {%- do parts.append([expr, weights.get(name, 0)]) -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{#-
  The tier of a score from a dict of lower bounds ({tier: lower bound}): the last tier (by bound)
  whose bound the score reaches, both sides rounded (methodology §9: [0,25) [25,50) [50,75) [75,100]).
-#}
{% macro segments_tier(score, bounds) -%}
    case
    {%- for item in bounds | dictsort(by='value') | reverse %}
        when {{ segments_ratio(score) }} >= {{ segments_cut(item[1]) }} then {{ dbt.string_literal(item[0]) }}
    {%- endfor %}
    end
{%- endmacro %}

{#- The tier names in ascending order of their lower bound (for migration up / down). -#}
{% macro segments_tier_order(bounds) -%}
    {%- set names = [] -%}
    {%- for item in bounds | dictsort(by='value') -%}{%- do names.append(item[0]) -%}{%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- The segmentations of methodology §11, in the order the KPIs list them. -#}
{% macro segments_segmentations() -%}
    {{ return(['stratum', 'profitability_quadrant', 'revenue_tier', 'maturity_tier', 'maturity_segment', 'needs_group']) }}
{%- endmacro %}

{#-
  The rank of a segment inside an ordered segmentation (higher = better), NULL for unordered ones:
  revenue_tier LOW < MEDIUM < HIGH; maturity_tier in the ascending order of its configured bounds.
  `segmentation` is the segmentation's name (a Jinja string), `segment` a SQL expression.
-#}
{% macro segments_segment_rank(segmentation, segment) -%}
    {%- if segmentation == 'revenue_tier' -%}
    case {{ segment }} when 'LOW' then 1 when 'MEDIUM' then 2 when 'HIGH' then 3 end
    {%- elif segmentation == 'maturity_tier' -%}
    {%- set tiers = segments_tier_order(segments_setting('maturity.tiers', {})) -%}
    case {{ segment }}
        {%- for t in tiers %} when {{ dbt.string_literal(t) }} then {{ loop.index }}{% endfor %}
        {%- if tiers | length == 0 %} when null then 0{% endif %}
    end
    {%- else -%}
    cast(null as integer)
    {%- endif -%}
{%- endmacro %}

{#- `col in (<configured values>)`; never true for an empty list. -#}
{% macro segments_in_list(col, values) -%}
    {%- if values | length == 0 -%}1 = 0{%- else -%}
    {{ col }} in ({% for v in values %}{{ dbt.string_literal(v) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#-
  A published rate or percentage (DOUBLE): num / den in floating point, NULL when den is 0 or NULL
  (methodology §1: a ratio whose denominator is 0 is empty). Decisions that compare a ratio with a
  cut use exact decimals (decimal_divide) and segments_ratio instead.
-#}
{% macro segments_rate(num, den) -%}
    case
        when ({{ den }}) is null or ({{ den }}) = 0 then cast(null as {{ segments_double_type() }})
        else {{ segments_to_double(num) }} / {{ segments_to_double(den) }}
    end
{%- endmacro %}

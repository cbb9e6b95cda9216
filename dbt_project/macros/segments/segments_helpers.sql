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
  The condition "a row of `month_index` can fall in W(M) (with `lag`: or in W(M − lag)) of a segment
  month M this build recomputes": the windowed models read their inputs from the first month their
  earliest recomputed window reaches, not from the first month of history. True for every row in a
  full build; false for every row when the build recomputes no segment month. Read only while the
  model runs, as strata_plan_months (the saved parse stays valid).
-#}
{% macro segments_reaches_plan_windows(month_index, lag=0) -%}
    {%- set plan = strata_build_plan() if strata_is_incremental() else none -%}
    {%- if plan is none -%}
        1 = 1
    {%- elif plan.get('segment', []) | length == 0 -%}
        1 = 0
    {%- else -%}
        {%- set first = 'cast(' ~ dbt.string_literal(plan['segment'] | min) ~ ' as date)' -%}
        {{ month_index }} >= {{ segments_month_index(first) }} - {{ segments_setting('window_months', 1) - 1 + lag }}
    {%- endif -%}
{%- endmacro %}

{#-
  W(M) as a window frame over rows ordered by month index: the sum over it at a row of month M is
  the W(M) total of the rows' partition (the rows are one per month, with a row at every M wanted:
  segments_sum_in_window).
-#}
{% macro segments_window_frame() -%}
    range between {{ segments_setting('window_months', 1) - 1 }} preceding and current row
{%- endmacro %}

{#-
  Sums over W(M) of the `columns` of `rows` (customer_no, month_index and the columns; any number
  of rows per customer and month) for each (customer_no, month_index) row of `at`: CTEs
  `<name>_months` and `<name>` (customer_no, month_index, `<column>_t12m` ...). Each customer's
  months get a row at every M of `at` (zeros: it adds nothing), so the sum over the window frame
  at that row is the W(M) total: one sort per customer instead of joining each M with the n
  months of its window.
-#}
{% macro segments_sum_in_window(name, rows, at, columns) -%}
{{ name }}_months as (

    select
        x.customer_no,
        x.month_index
        {%- for c in columns %},
        sum(x.{{ c }}) as {{ c }}
        {%- endfor %}
    from (
        select r.customer_no, r.month_index{% for c in columns %}, r.{{ c }}{% endfor %}
        from {{ rows }} as r
        union all
        select a.customer_no, a.month_index{% for c in columns %}, 0 as {{ c }}{% endfor %}
        from {{ at }} as a
    ) as x
    group by x.customer_no, x.month_index

),

{{ name }} as (

    select
        m.customer_no,
        m.month_index
        {%- for c in columns %},
        sum(m.{{ c }}) over w as {{ c }}_t12m
        {%- endfor %}
    from {{ name }}_months as m
    window w as (partition by m.customer_no order by m.month_index {{ segments_window_frame() }})

)
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

{#-
  How many distinct items each customer has in W(M), for each (customer_no, month_index) row of
  `at`; with `lag`, only the items in W(M) that are not in W(M − lag) (new product families,
  methodology §11). `items` has one row per customer_no, month_index and `item`. Defines the CTEs
  `<name>_purchases`, `<name>_stretches`, `<name>_counted`, `<name>_steps` and `<name>`
  (customer_no, month_index, distinct_items).

  Joining every M with the n months of its window and counting distinct items there reads each
  row n times, then sorts them all for the distinct count. Instead: an item bought in month m is in
  W(M) for M = m … m + n − 1, so the months M in which it is in W(M) form stretches (purchases at
  most n months apart share one: start = the first purchase, end = the last + n − 1). The count at
  M is a running sum, per customer, of +1 where a stretch starts and −1 after it ends. With `lag`,
  the months in which the item is in W(M − lag) too (where one of its stretches overlaps another
  shifted by lag months) are taken off the same way. A few sorts of the rows instead of n times
  the rows. Exact for each M of `at` whatever month `items` starts at, as long as it holds every
  month of W(M) (and of W(M − lag)).
-#}
{% macro segments_count_in_window(name, items, item, at, lag=none) -%}
    {%- set n = segments_setting('window_months', 1) -%}
{{ name }}_purchases as (

    select
        customer_no,
        {{ item }} as item,
        month_index,
        case
            when month_index - lag(month_index) over (partition by customer_no, {{ item }} order by month_index) <= {{ n }}
                then 0
            else 1
        end as starts_stretch
    from {{ items }}

),

{{ name }}_stretches as (

    select customer_no, item, min(month_index) as start_index, max(month_index) + {{ n - 1 }} as end_index
    from (
        select
            customer_no,
            item,
            month_index,
            sum(starts_stretch) over (
                partition by customer_no, item order by month_index rows between unbounded preceding and current row
            ) as stretch
        from {{ name }}_purchases
    ) as numbered
    group by customer_no, item, stretch

),

{{ name }}_counted as (

    select customer_no, start_index as from_index, end_index as to_index, 1 as step
    from {{ name }}_stretches
    {%- if lag is not none %}
    union all
    -- the months in which the item is also in W(M − lag): a stretch overlapping one shifted by lag
    select
        a.customer_no,
        greatest(a.start_index, b.start_index + {{ lag }}) as from_index,
        least(a.end_index, b.end_index + {{ lag }}) as to_index,
        -1 as step
    from {{ name }}_stretches as a
    inner join {{ name }}_stretches as b
        on b.customer_no = a.customer_no
       and b.item = a.item
       and b.start_index + {{ lag }} <= a.end_index
       and b.end_index + {{ lag }} >= a.start_index
    {%- endif %}

),

{{ name }}_steps as (

    select customer_no, from_index as month_index, step
    from {{ name }}_counted
    union all
    select customer_no, to_index + 1 as month_index, -step as step
    from {{ name }}_counted
    union all
    select customer_no, month_index, 0 as step
    from {{ at }}

),

{{ name }} as (

    select
        customer_no,
        month_index,
        sum(sum(step)) over (
            partition by customer_no order by month_index rows between unbounded preceding and current row
        ) as distinct_items
    from {{ name }}_steps
    group by customer_no, month_index

)
{%- endmacro %}

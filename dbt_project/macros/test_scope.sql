{#-
  The tests of an incremental build test the months it recomputed (docs/incremental.md, "The tests
  of an incremental build"). The other months of a model partitioned by month hold the rows that
  the last complete build made and tested, untouched since: a build completes only once every test
  has passed (they all have severity error), and its months are deleted before they are rebuilt.

  `get_where_subquery` is dbt's hook that wraps the relation a generic test reads in a subquery
  (for the test's `where` config); this one also keeps, for a model partitioned by month
  (`strata_by_month`, which records its layer in its meta), only the rows of the plan's months of
  that layer. The singular integrity tests scope themselves with `strata_test_months`.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set by_month = strata_tested_by_month() -%}
    {%- if by_month and strata_test_is_scoped() -%}
        {%- set column = month_end(by_month.month_of) if by_month.month_of else 'month' -%}
        {%- do conditions.append('(' ~ strata_test_months(column, by_month.layer) ~ ')') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Whether this build recomputes only the plan's months (else its tests read every row). -#}
{% macro strata_test_is_scoped() -%}
    {{ return(execute and not flags.FULL_REFRESH and strata_build_plan() is not none) }}
{%- endmacro %}

{#- In a test: "`column` is one of the plan's months of `layer`" (true for every row when the
    build is not scoped). -#}
{% macro strata_test_months(column, layer) -%}
    {{ strata_months_condition(column, layer, strata_build_plan() if strata_test_is_scoped() else none) }}
{%- endmacro %}

{#- The `strata_by_month` meta (layer, month_of) of the model a generic test is attached to, or none. -#}
{% macro strata_tested_by_month() -%}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- set node = graph.get('nodes', {}).get(attached) if attached else none -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(node.get('config', {}).get('meta', {}).get('strata_by_month')) }}
{%- endmacro %}

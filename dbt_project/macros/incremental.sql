{#-
  Incremental by month (docs/incremental.md). A run's build plan passes the months to recompute in
  the environment variable STRATA_BUILD_PLAN: {"fact": [...], "segment": [...], "kpi": [...],
  "sales": [...], "erp__sales_lines": [...], ...}
  (month-end dates, 'YYYY-MM-DD'; assets/core/dbt.py: plan_env). It is read only while a model
  executes, never while dbt parses, so the saved parse stays valid from run to run.

  A model partitioned by month declares its layer: `fact`, `segment`, `kpi`, or a narrower one
  that names the months of its own inputs (`sales`; for a staging model its entity, e.g.
  `erp__sales_lines`), a layer the plan does not name having no months:

      {{ config(**strata_by_month('fact')) }}

  and filters the relation that decides its output months with

      where {{ strata_plan_months('m.month', 'fact') }}

  Its rows of the plan's months are deleted and recomputed in one transaction (the pre-hook and the
  insert of dbt's `append` strategy); the other months stay. A staging model has no month column:
  it names the date that puts a row into a month, `strata_by_month('erp__sales_lines',
  'posting_date')`, and ranks the versions of `strata_plan_versions(...)` (macros/versions.sql).
  A first build, `--full-refresh`, or a build without a plan (a scenario, a hand-run dbt)
  recomputes every month. On Spark the model stays a table (Parquet tables take no DELETE).
-#}
{% macro strata_by_month(layer, month_of=none) -%}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {%- set args = "'" ~ layer ~ "'" ~ (", '" ~ month_of ~ "'" if month_of else "") -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': "{{ strata_delete_plan_months(" ~ args ~ ") }}",
        'meta': {'strata_by_month': {'layer': layer, 'month_of': month_of}},
    }) }}
{%- endmacro %}

{#- The condition "`column` is one of the plan's months of `layer`" (true for every row outside an
    incremental build). -#}
{% macro strata_plan_months(column, layer) -%}
    {{ strata_months_condition(column, layer, strata_build_plan() if strata_is_incremental() else none) }}
{%- endmacro %}

{#- The condition "`column` is one of `plan`'s months of `layer`" (true for every row without a plan). -#}
{% macro strata_months_condition(column, layer, plan) -%}
    {%- if plan is none -%}
        1 = 1
    {%- elif plan.get(layer, []) | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ column }} in ({% for m in plan[layer] %}cast('{{ m }}' as date){{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- `month_of`: the date column whose month a row belongs to (none: the model's `month`). -#}
{% macro strata_delete_plan_months(layer, month_of=none) -%}
    {%- if strata_is_incremental() -%}
        delete from {{ this }} where {{ strata_plan_months(month_end(month_of) if month_of else 'month', layer) }}
    {%- endif -%}
{%- endmacro %}

{#- The plan's months by layer, or none (recompute every month). -#}
{% macro strata_build_plan() -%}
    {%- set raw = env_var('STRATA_BUILD_PLAN', '') -%}
    {{ return(fromjson(raw) if raw else none) }}
{%- endmacro %}

{#- dbt's is_incremental(), false where the model has no relation of its own: a dbt unit test
    compiles the model with `this` unset, and every month is what a unit test means. -#}
{% macro strata_is_incremental() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

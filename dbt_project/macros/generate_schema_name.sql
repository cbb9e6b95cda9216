{#-
  Models land in the plain schema their folder configures (staging, intermediate, marts), without
  dbt's default `<target schema>_` prefix: the warehouse layout of docs/architecture.md is fixed.
  A node without a configured schema goes to the target's schema.

  A scenario (docs/scenarios.md) builds the models it recomputes into schemas of its own: the var
  `strata_schema_prefix` (e.g. `scenario_phone3x_`) is put before every schema name. Production
  runs never set it, so production keeps the plain names. The prefix is checked by the scenario
  runner (letters, digits, underscore) before it reaches dbt.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('strata_schema_prefix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix ~ target.schema }}
    {%- else -%}
        {{ prefix ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}

{#-
  Models land in the plain schema their folder configures (staging, intermediate, marts), without
  dbt's default `<target schema>_` prefix: the warehouse layout of docs/architecture.md is fixed.
  A node without a configured schema goes to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

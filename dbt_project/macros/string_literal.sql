{#-
  dbt's default `string_literal` puts the value between single quotes as it is, so a configured
  text holding a quote (a playbook initiative such as "Partner's plan") broke the SQL, and a crafted
  one could change it. On DuckDB (standard SQL strings: no backslash escapes) a quote is doubled.
  Every configuration string the models put into SQL goes through dbt.string_literal
  (tests/reliability/test_sql_from_settings.py).
-#}
{% macro duckdb__string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

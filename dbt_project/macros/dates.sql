{#- The fiscal month of a date or timestamp: the DATE of the month's last day (marts.md). -#}
{% macro month_end(expr) -%}
    cast({{ dbt.last_day("cast(" ~ expr ~ " as date)", "month") }} as date)
{%- endmacro %}

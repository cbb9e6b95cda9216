{#-
  The one configuration (assets/core/strata.yml) reaches dbt as `--vars`:
  {"strata": <validated settings>, "config_version": "<12 hex>"}. These macros read it. SQL never
  holds a weight, rate, cut or currency as a literal; it calls these macros instead.

  strata_setting('cost_to_serve.late_payment_weight')   -> the raw value (number, string, dict, list)
  strata_decimal('cost_to_serve.late_payment_weight')   -> cast('5' as decimal(38,12))
  strata_string('currency.lcy')                          -> 'USD'

  A missing var or key stops the run with a message naming it, unless the caller gives a default.
  `dbt parse` renders models without vars (execute is false then): it gets the default (or none),
  which is never run. The settings are validated before they reach dbt (assets/core/settings.py),
  so every key the models read exists at run time.
-#}

{% macro strata_setting(path, default=none) -%}
    {%- set found = namespace(node=var('strata', none)) -%}
    {%- for key in path.split('.') -%}
        {%- if found.node is mapping and key in found.node -%}
            {%- set found.node = found.node[key] -%}
        {%- elif default is not none or not execute -%}
            {{ return(default) }}
        {%- elif var('strata', none) is none -%}
            {{ exceptions.raise_compiler_error(
                "dbt var 'strata' is missing: run dbt with --vars from "
                ~ "assets.core.settings.load_settings().dbt_vars()") }}
        {%- else -%}
            {{ exceptions.raise_compiler_error("strata setting '" ~ path ~ "' is missing from var('strata')") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found.node) }}
{%- endmacro %}

{#- A numeric setting as an exact DECIMAL literal (through its text form, never a float). -#}
{% macro strata_decimal(path) -%}
    {{ return(strata_decimal_literal(strata_setting(path), path)) }}
{%- endmacro %}

{% macro strata_decimal_literal(value, what='value') -%}
    {%- if value is none -%}
        {{ return("cast(null as " ~ strata_money_type() ~ ")") }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if value is boolean or not modules.re.fullmatch('[-+]?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?', text) -%}
        {{ exceptions.raise_compiler_error("strata setting " ~ what ~ " = '" ~ text ~ "' is not a number") }}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as " ~ strata_money_type() ~ ")") }}
{%- endmacro %}

{#- A string setting as a quoted SQL literal. -#}
{% macro strata_string(path) -%}
    {%- set value = strata_setting(path) -%}
    {%- if value is none -%}{{ return("cast(null as " ~ dbt.type_string() ~ ")") }}{%- endif -%}
    {{ return(dbt.string_literal(value | string)) }}
{%- endmacro %}

{#- The reporting currency (LCY) as a quoted literal, 'USD' in the demo. -#}
{% macro strata_lcy() -%}
    {{ return(strata_string('currency.lcy')) }}
{%- endmacro %}

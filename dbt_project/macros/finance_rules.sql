{#-
  Codes and rules of methodology §1-4 that several models share. Numbers (weights, rates, LCY) come
  from var('strata') through macros/strata_settings.sql; the codes here are the methodology's own.
-#}

{#- The explicit customer of everything that resolves to no known customer (methodology §2). -#}
{% macro unassigned_customer() -%}
    {{ return("'UNASSIGNED'") }}
{%- endmacro %}

{#- The six cost pools of methodology §4, in the order the marts list them. -#}
{% macro cost_pools() -%}
    {{ return(['ORDER_ENTRY', 'WAREHOUSE', 'RETURNS', 'SALES_COVERAGE', 'SUPPORT_DESK', 'CREDIT_COLLECTIONS']) }}
{%- endmacro %}

{#- Rebate claims in these statuses are income (methodology §3). -#}
{% macro rebate_income_statuses() -%}
    {{ return(['APPROVED', 'PAID']) }}
{%- endmacro %}

{#- The credit-memo return reason that is not a physical return (no RETURNS driver unit). -#}
{% macro price_adjustment_reason() -%}
    {{ return("'PRICE_ADJUSTMENT'") }}
{%- endmacro %}

{#-
  A sales line's amount signed as it counts in net revenue and COGS (methodology §3): positive on
  an INVOICE line, negative on a CREDIT_MEMO line (the ERP delivers both positive).
-#}
{% macro signed_by_document_type(amount, document_type='document_type') -%}
    case when {{ document_type }} = 'CREDIT_MEMO' then -{{ amount }} else {{ amount }} end
{%- endmacro %}

{#- `values` as a SQL IN list: ('A', 'B'). -#}
{% macro sql_in_list(values) -%}
    ({%- for v in values -%}{{ dbt.string_literal(v) }}{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}

{#-
  amount in `currency` converted to LCY (methodology §1): LCY converts at 1 whatever fx_rates
  says (it may omit LCY); any other currency at `rate` (the month's rate_to_lcy). NULL when the
  rate is missing: never a silent 0 (int_fx_missing_rates lists the month, and its test blocks).
-#}
{% macro convert_to_lcy(amount, currency, rate) -%}
    case
        when {{ currency }} = {{ strata_lcy() }} then {{ to_money(amount) }}
        else {{ money_times(amount, rate) }}
    end
{%- endmacro %}

{#- ORDER_ENTRY driver units of one INVOICE line: the configured weight of its order channel. -#}
{% macro order_channel_weight(channel) -%}
    {%- set weights = strata_setting('cost_to_serve.order_entry_channel_weights') or {} -%}
    case {{ channel }}
    {%- for ch, w in weights.items() | sort %}
        when {{ dbt.string_literal(ch) }} then {{ strata_decimal_literal(w, 'order_entry_channel_weights.' ~ ch) }}
    {%- endfor %}
        else {{ to_money('0') }}
    end
{%- endmacro %}

{#-
  The practical capacity (driver units per month) configured for the pool in `pool` (time-driven
  mode, methodology §4), NULL when the pool has none.
-#}
{% macro practical_capacity(pool) -%}
    {%- set capacities = strata_setting('cost_to_serve.practical_capacity') or {} -%}
    {%- if capacities | length == 0 -%}
        cast(null as {{ strata_money_type() }})
    {%- else -%}
    case {{ pool }}
    {%- for p, c in capacities.items() | sort %}
        when {{ dbt.string_literal(p) }} then {{ strata_decimal_literal(c, 'practical_capacity.' ~ p) }}
    {%- endfor %}
    end
    {%- endif -%}
{%- endmacro %}

{#-
  Money is DECIMAL end to end (methodology §1). Internal amounts are DECIMAL(38,12); only the
  published money columns are rounded, to cents, half away from zero, as DECIMAL(18,2).
-#}

{#- The working type of every unrounded money amount, rate and driver unit count. -#}
{% macro strata_money_type() -%}
    {{ return(adapter.dispatch('strata_money_type', 'strata')()) }}
{%- endmacro %}
{% macro default__strata_money_type() -%}decimal(38,12){%- endmacro %}

{#- An expression cast to the working money type. -#}
{% macro to_money(expr) -%}
    cast({{ expr }} as {{ strata_money_type() }})
{%- endmacro %}

{#- A published money column: rounded to cents half away from zero, DECIMAL(18,2). -#}
{% macro publish_money(expr) -%}
    cast(round({{ expr }}, 2) as decimal(18,2))
{%- endmacro %}

{#-
  Exact decimal division num / den, as DECIMAL(38,12) rounded to the nearest 1e-12; NULL when den
  is 0 or NULL (a ratio whose denominator is 0 is empty).

  Several engines (DuckDB among them) divide DECIMAL by DECIMAL into DOUBLE. A double quotient is
  only good to ~16 significant digits, which can move a half-cent boundary. So: take a coarse
  quotient q0 (6 decimals) from the double division, compute the exact decimal remainder
  r = num - q0 * den, and add r / den: that correction is below 1e-6, so its double error is
  far below 1e-12, and the sum rounds to the exact quotient's nearest 1e-12.
-#}
{% macro decimal_divide(num, den) -%}
    case
        when {{ den }} is null or {{ den }} = 0 then cast(null as {{ strata_money_type() }})
        else {{ to_money(
            strata_coarse_quotient(num, den)
            ~ " + cast((" ~ to_money(num) ~ " - " ~ strata_coarse_quotient(num, den) ~ " * " ~ to_money(den) ~ ")"
            ~ " / " ~ to_money(den) ~ " as " ~ strata_money_type() ~ ")"
        ) }}
    end
{%- endmacro %}

{% macro strata_coarse_quotient(num, den) -%}
    cast(cast({{ num }} as double) / cast({{ den }} as double) as decimal(38,6))
{%- endmacro %}

{#- amount x factor (both exact), kept at 12 decimals. -#}
{% macro money_times(amount, factor) -%}
    {{ to_money(to_money(amount) ~ " * " ~ to_money(factor)) }}
{%- endmacro %}

{#- amount x a whole number (an integer column or count): exact at 12 decimals with nothing to round.
    money_times would widen the product to 24 decimals and round it back, a 128-bit division a row
    on DuckDB (the carrying cost of L's 18.3 M payments: 11.7 -> 6.4 s, the same values;
    docs/performance.md). -#}
{% macro money_times_count(amount, count) -%}
    {{ to_money(amount) }} * {{ count }}
{%- endmacro %}

{#-
  What differs between the engines strata runs on (DuckDB, the default target, and Spark; see
  docs/spark.md), beside the arithmetic helpers of money.sql and segments_helpers.sql. Models never
  branch on the engine themselves: they call these macros, and adapter.dispatch picks the version.
-#}

{#-
  Run before every dbt invocation (on-run-start in dbt_project.yml). DuckDB: nothing (the raw layer
  is the warehouse's `raw` schema). Spark: refuse a session whose decimal arithmetic would round
  money, then register the raw layer's Parquet folders as external tables `raw.<identifier>`, so
  the sources (`schema: raw`) resolve on both engines without a line of difference.
-#}
{% macro strata_on_run_start() -%}
    {{ return(adapter.dispatch('strata_on_run_start', 'strata')()) }}
{%- endmacro %}

{% macro default__strata_on_run_start() -%}{%- endmacro %}

{% macro spark__strata_on_run_start() -%}
    {%- if execute -%}
        {{ strata_require_spark_setting('spark.sql.decimalOperations.allowPrecisionLoss', 'false') }}
        {{ strata_register_raw_parquet() }}
    {%- endif -%}
{%- endmacro %}

{#-
  Spark's default differs from DuckDB where it matters for money: with precision loss allowed, a
  DECIMAL(38,12) product or quotient is rounded to 6 places (DuckDB keeps the exact product, up to
  38 digits). The profile turns it off (profiles.yml, docs/spark.md); this stops a run whose session
  differs. (ANSI mode cannot be required: dbt-spark forces spark.sql.ansi.enabled=false, so on Spark
  a DECIMAL overflow gives NULL where DuckDB raises; the marts' not_null tests catch it.)
-#}
{% macro strata_require_spark_setting(key, expected) -%}
    {%- set result = run_query('set ' ~ key) -%}
    {%- set actual = (result.rows[0][1] | string | lower) if result.rows | length > 0 else 'unset' -%}
    {%- if actual != expected -%}
        {{ exceptions.raise_compiler_error(
            "strata needs the Spark setting " ~ key ~ "=" ~ expected ~ " (it is " ~ actual ~ "): "
            ~ "set it in the profile (server_side_parameters, or the cluster's Spark config); see docs/spark.md") }}
    {%- endif -%}
{%- endmacro %}

{#-
  Every source table in schema `raw` becomes an external Parquet table over
  $STRATA_RAW_PARQUET/<identifier>/ (written by the raw-layer export, assets/core/engines.py), and
  every one in schema `clv` (the predicted-value fits, written between the two dbt steps by
  assets/clv/asset.py) one over $STRATA_RAW_PARQUET/clv__<identifier>/. Re-created on every run:
  dropping an external table leaves its files alone, and the new table sees the newest export.
  Before the first fit of an output folder the dbt step writes empty `clv` files (assets/clv), so
  the tables always resolve; only the models after the fit read them.
-#}
{% macro strata_register_raw_parquet() -%}
    {%- set root = env_var('STRATA_RAW_PARQUET', '') -%}
    {%- if not root -%}
        {{ exceptions.raise_compiler_error(
            "STRATA_RAW_PARQUET is not set: on Spark the raw layer is read from the Parquet export "
            ~ "<out>/raw_parquet (the dbt step of the Dagster run sets it; see docs/spark.md)") }}
    {%- endif -%}
    {%- set tables = [] -%}
    {%- for source in graph.sources.values() if source.schema in ('raw', 'clv') -%}
        {%- set folder = source.identifier if source.schema == 'raw' else source.schema ~ '__' ~ source.identifier -%}
        {%- do tables.append(source.schema ~ '.' ~ source.identifier ~ '|' ~ folder) -%}
    {%- endfor -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- do run_query('create schema if not exists clv') -%}
    {%- for entry in tables | unique | sort -%}
        {%- set relation, folder = entry.split('|') -%}
        {%- set location = root.rstrip('/') ~ '/' ~ folder -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- do run_query("create table " ~ relation ~ " using parquet location " ~ dbt.string_literal(location)) -%}
    {%- endfor -%}
{%- endmacro %}

{#-
  A text as a SQL string literal on Spark. Spark SQL strings take backslash escapes, and two quotes
  in a row are two adjacent literals, concatenated ('a''b' is 'ab'), so doubling a quote (what
  duckdb__string_literal does, standard SQL) would silently drop it: backslashes and quotes are
  escaped with a backslash instead. Every configuration text the models put into SQL goes through
  dbt.string_literal.
-#}
{% macro spark__string_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#-
  Written between a CTE's name and its body, `with source as {{ inline_cte() }} (`: the CTE is read
  where it is referenced, never stored first. DuckDB stores a CTE that a query reads more than once
  as a temporary result (CTE materialization). For an import CTE (`select * from` a table, read
  again by the version ranks or by several branches of a union) that is a second copy of the
  table: at L, 56 M sales lines with every column, which spills to disk and doubles the staging
  model's time (docs/performance.md, "Import CTEs read in place"). Scanning the stored table
  again reads only the columns each reference needs. CTEs that aggregate keep DuckDB's choice.
  Spark never stores a CTE: nothing.
-#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte', 'strata')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}{%- endmacro %}

{% macro duckdb__inline_cte() -%}not materialized{%- endmacro %}

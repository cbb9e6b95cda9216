{#-
  Every row of `relation` (a CTE name) with `version_rank`: 1 for the newest delivered version of
  its key, 2, 3, ... for older ones, newest first by `newest_first` (an ORDER BY list of the
  relation's own columns). The staging models keep `version_rank = 1`.

  The same ranks as `row_number() over (partition by <key> order by <newest_first>)` over the whole
  relation, computed cheaply: a key delivered once (nearly every key: the row rules already
  quarantine keys repeated inside one batch) is rank 1 without a sort; only the keys found in more
  than one batch are ranked by the window. Over every row, the window sorted the whole entity with
  all its columns (stg_erp__sales_lines at L, 56 M rows: docs/performance.md).
  Keys are never NULL here (an empty key value is quarantined at ingestion), so plain equality
  joins are exact.
-#}
{% macro strata_version_ranks(relation, key, newest_first) -%}
    {%- set key_list = key | join(', ') -%}
    {%- set on = [] -%}
    {%- for k in key -%}{%- do on.append('v.' ~ k ~ ' = r.' ~ k) -%}{%- endfor %}
    with repeated_keys as (

        select {{ key_list }}
        from {{ relation }}
        group by {{ key_list }}
        having count(*) > 1

    )

    select v.*, cast(1 as {{ dbt.type_bigint() }}) as version_rank
    from {{ relation }} as v
    left join repeated_keys as r
        on {{ on | join(' and ') }}
    where r.{{ key[0] }} is null

    union all

    select
        v.*,
        row_number() over (
            partition by {% for k in key %}v.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by {{ newest_first }}
        ) as version_rank
    from {{ relation }} as v
    inner join repeated_keys as r
        on {{ on | join(' and ') }}
{%- endmacro %}

{#- The rows a staging model of a transactional entity ranks (docs/incremental.md). In an incremental
    build: the versions dated in the months of `layer` (the entity's own) of every key that the
    model keeps no row of in its other months (after the pre-hook deleted the plan's months). A key
    with a row in an unchanged month has its winner there: a newer version, or a change to any of
    its batches, would have put that month into the plan (the planner puts the months of every
    version of a changed key into the layer). So the model reads only its months of the raw layer
    and the keys of its own table, not every version of the entity. Otherwise every row. -#}
{% macro strata_plan_versions(relation, key, date_column, layer) -%}
    {#- strata_is_incremental() first: it is false while dbt parses, so the plan (an environment
        variable) is never read then and the saved parse stays valid from run to run. -#}
    {%- if not strata_is_incremental() or strata_build_plan() is none -%}
    select * from {{ relation }}
    {%- else -%}
    {%- set on = [] -%}
    {%- for k in key -%}{%- do on.append('kept.' ~ k ~ ' = v.' ~ k) -%}{%- endfor %}
    select v.*
    from {{ relation }} as v
    where {{ strata_plan_months(month_end('v.' ~ date_column), layer) }}
        and not exists (
            select 1
            from {{ this }} as kept
            where {{ on | join(' and ') }}
        )
    {%- endif -%}
{%- endmacro %}

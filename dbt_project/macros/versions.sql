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

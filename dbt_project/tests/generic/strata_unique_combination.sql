{#- The listed columns together identify one row (a composite key). Fails with each duplicated key. -#}
{% test strata_unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}

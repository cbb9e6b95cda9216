{#- Every row satisfies the boolean SQL expression; the failing rows are returned. -#}
{% test strata_expression_is_true(model, expression) %}

select * from {{ model }}
where not ({{ expression }})

{% endtest %}

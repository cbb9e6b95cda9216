{#-
  Every row satisfies the boolean SQL expression; the failing rows are returned. Works as a model
  test and as a column test (the column is then available to the expression by name).
-#}
{% test strata_expression_is_true(model, expression, column_name=none) %}

select * from {{ model }}
where not ({{ expression }})

{% endtest %}

{#-
  The model lists problems, one per row; the test fails when it lists any (each row is shown in the
  failure). Used for blocking data-quality conditions, e.g. a month that uses a currency without a
  rate (methodology §1).
-#}
{% test strata_expect_no_rows(model) %}

select * from {{ model }}

{% endtest %}

{#-
  Every value is a resolved customer (methodology §2): a customer_no of the newest customer
  snapshot (int_customers) or UNASSIGNED. Returns the rows that are neither.
-#}
{% test strata_resolved_customer(model, column_name) %}

with model_rows as (

    select {{ column_name }} from {{ model }}

)

select model_rows.{{ column_name }}
from model_rows
left join {{ ref('int_customers') }} as customers
    on model_rows.{{ column_name }} = customers.customer_no
where model_rows.{{ column_name }} is null
    or (customers.customer_no is null and model_rows.{{ column_name }} <> {{ unassigned_customer() }})

{% endtest %}

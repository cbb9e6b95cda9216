{#-
  Published: the playbook of every customer active at the newest segment month (methodology §9,
  marts.md). The review cadence, key initiative and relationship owner come from the configuration
  (segments.playbook, business data). last_review_date = the newest CRM activity of a
  `segments.review_activity_types` type (QBR, MEETING, SITE_VISIT) with customer_attended = true,
  on or before the month's end; next_review_due = last review + the cadence in months (empty for a
  cadence without months, "as needed", or without any review); review_overdue = a cadence applies
  and either no review was ever held or next_review_due is before the month's end. p_alive and
  churn_risk (methodology §13) come last.
-#}
{%- set playbook = segments_setting('playbook', {}) -%}
{%- set review_types = segments_setting('review_activity_types', []) -%}

with customers as (

    select c.*
    from {{ ref('int_segment_customers') }} as c
    where c.month_index = (select max(x.month_index) from {{ ref('int_segment_customers') }} as x)

),

plays as (

    {%- for segment, play in playbook | dictsort %}
    select
        cast({{ dbt.string_literal(segment) }} as {{ dbt.type_string() }}) as maturity_segment,
        cast({{ dbt.string_literal(play['review_cadence']) }} as {{ dbt.type_string() }}) as review_cadence,
        cast({{ play['review_cadence_months'] if play['review_cadence_months'] is not none else 'null' }} as integer)
            as review_cadence_months,
        cast({{ dbt.string_literal(play['key_initiative']) }} as {{ dbt.type_string() }}) as key_initiative,
        cast({{ dbt.string_literal(play['relationship_owner']) }} as {{ dbt.type_string() }}) as relationship_owner
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if playbook | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as maturity_segment,
        cast(null as {{ dbt.type_string() }}) as review_cadence,
        cast(null as integer) as review_cadence_months,
        cast(null as {{ dbt.type_string() }}) as key_initiative,
        cast(null as {{ dbt.type_string() }}) as relationship_owner
    where 1 = 0
    {%- endif %}

),

reviews as (

    select c.customer_no, max(a.activity_date) as last_review_date
    from customers as c
    inner join {{ ref('int_crm_activities') }} as a
        on a.customer_no = c.customer_no
       and a.activity_date <= c.month
       and a.customer_attended = true
       and {{ segments_in_list('a.activity_type', review_types) }}
    group by c.customer_no

),

due as (

    select
        c.customer_no,
        c.customer_name,
        c.month,
        c.stratum,
        c.maturity_segment,
        c.profitability_quadrant,
        p.review_cadence,
        p.key_initiative,
        p.relationship_owner,
        r.last_review_date,
        case when p.review_cadence_months is not null and r.last_review_date is not null
            then cast({{ dbt.dateadd('month', 'p.review_cadence_months', 'r.last_review_date') }} as date)
        end as next_review_due,
        p.review_cadence_months,
        c.maturity_tier,
        c.config_version,
        cp.p_alive,
        cp.churn_risk
    from customers as c
    left join plays as p
        on p.maturity_segment = c.maturity_segment
    left join reviews as r
        on r.customer_no = c.customer_no
    left join {{ ref('int_clv_customer_predictions') }} as cp
        on cp.month_index = c.month_index
       and cp.customer_no = c.customer_no

)

select
    d.customer_no,
    d.customer_name,
    d.month,
    d.stratum,
    d.maturity_segment,
    d.profitability_quadrant,
    d.review_cadence,
    d.key_initiative,
    d.relationship_owner,
    d.last_review_date,
    d.next_review_due,
    case
        when d.review_cadence_months is null then false
        when d.last_review_date is null then true
        when d.next_review_due < d.month then true
        else false
    end as review_overdue,
    d.review_cadence_months,
    d.maturity_tier,
    d.config_version,
    d.p_alive,
    d.churn_risk
from due as d

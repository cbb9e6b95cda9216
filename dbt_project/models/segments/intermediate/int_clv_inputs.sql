{#-
  Methodology §13: the inputs of the BG/NBD and Gamma-Gamma fits, per segment month M and customer
  with at least one purchase occasion up to M's last day (active at M or not; never UNASSIGNED).
  A purchase occasion is a posting_date with at least one INVOICE line of the customer; its value
  is the sum of those lines' net amount (LCY). Only occasions up to M count: nothing later leaks
  into M's inputs. Weeks are days / 7 exactly. The fit itself is Python (the Dagster asset
  clv/customer_predictions), which reads this model.
-#}

{{ config(**strata_by_month('segment')) }}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m
    where {{ strata_plan_months('m.month', 'segment') }}

),

occasions as (

    select
        sl.customer_no,
        sl.posting_date as occasion_date,
        {{ segments_month_index('sl.posting_date') }} as month_index,
        {{ to_money('sum(sl.net_amount_lcy)') }} as occasion_value
    from {{ ref('int_sales_lines') }} as sl
    where sl.document_type = 'INVOICE'
      and sl.customer_no <> {{ unassigned_customer() }}
    group by sl.customer_no, sl.posting_date

),

firsts as (

    select o.customer_no, o.occasion_date as first_occasion_date, o.occasion_value as first_occasion_value
    from occasions as o
    inner join (
        select customer_no, min(occasion_date) as first_date
        from occasions
        group by customer_no
    ) as f
        on f.customer_no = o.customer_no and f.first_date = o.occasion_date

),

-- One row per customer and calendar month with occasions: the running totals below then cost one
-- row per customer-month, not one per occasion and segment month.
occasion_months as (

    select
        o.customer_no,
        o.month_index,
        count(*) as occasions,
        sum(o.occasion_value) as occasions_value,
        max(o.occasion_date) as last_occasion_date
    from occasions as o
    group by o.customer_no, o.month_index

),

-- Running totals up to each month with occasions, valid until the customer's next such month.
running as (

    select
        om.customer_no,
        om.month_index,
        sum(om.occasions) over (
            partition by om.customer_no order by om.month_index rows between unbounded preceding and current row
        ) as occasions,
        sum(om.occasions_value) over (
            partition by om.customer_no order by om.month_index rows between unbounded preceding and current row
        ) as occasions_value,
        om.last_occasion_date,
        lead(om.month_index) over (partition by om.customer_no order by om.month_index) as next_month_index
    from occasion_months as om

),

-- At M: the running totals of the customer's newest month with occasions up to M.
up_to_m as (

    select
        m.month,
        m.month_index,
        r.customer_no,
        r.occasions,
        r.occasions_value,
        r.last_occasion_date
    from months as m
    inner join running as r
        on r.month_index <= m.month_index
       and (r.next_month_index is null or r.next_month_index > m.month_index)

)

select
    u.month,
    u.month_index,
    u.customer_no,
    f.first_occasion_date,
    u.last_occasion_date,
    cast(u.occasions as bigint) as occasions,
    cast(u.occasions - 1 as bigint) as repeat_occasions,
    {{ segments_to_double(dbt.datediff('f.first_occasion_date', 'u.last_occasion_date', 'day')) }} / 7 as recency_weeks,
    {{ segments_to_double(dbt.datediff('f.first_occasion_date', 'u.month', 'day')) }} / 7 as age_weeks,
    case
        when u.occasions > 1
            then {{ decimal_divide('u.occasions_value - f.first_occasion_value', 'u.occasions - 1') }}
    end as mean_repeat_value
from up_to_m as u
inner join firsts as f
    on f.customer_no = u.customer_no

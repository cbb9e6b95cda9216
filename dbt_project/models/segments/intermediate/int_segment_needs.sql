{#-
  Methodology §10: the needs group of every customer active at M. Among its opportunities created
  in W(M) (newest version) that carry a need_driver, the driver with the largest total amount_lcy
  wins; equal totals go to STRATEGIC before TACTICAL before PERSONAL; none -> UNKNOWN.
  need_capture_rate = opportunities created in W(M) with a driver / all created in W(M) (empty
  without any).
-#}

{{ config(**strata_by_month('segment')) }}

with activity as (

    select
        a.month,
        a.month_index,
        a.customer_no,
        a.opportunities_created_t12m,
        a.opportunities_with_driver_t12m
    from {{ ref('int_segment_activity_t12m') }} as a
    where {{ strata_plan_months('a.month', 'segment') }}

),

opportunities as (

    select
        o.customer_no,
        {{ segments_month_index('o.created_date') }} as month_index,
        o.need_driver,
        o.amount_lcy
    from {{ ref('int_crm_opportunities') }} as o
    where o.need_driver is not null

),

driver_totals as (

    select
        a.month_index,
        a.customer_no,
        o.need_driver,
        {{ to_money('sum(o.amount_lcy)') }} as amount_lcy_t12m
    from activity as a
    inner join opportunities as o
        on o.customer_no = a.customer_no
       and {{ segments_in_window('o.month_index', 'a.month_index') }}
    group by a.month_index, a.customer_no, o.need_driver

),

ranked as (

    select
        d.month_index,
        d.customer_no,
        d.need_driver,
        d.amount_lcy_t12m,
        row_number() over (
            partition by d.month_index, d.customer_no
            order by
                d.amount_lcy_t12m desc,
                case d.need_driver when 'STRATEGIC' then 1 when 'TACTICAL' then 2 when 'PERSONAL' then 3 else 4 end
        ) as precedence
    from driver_totals as d

)

select
    a.month,
    a.month_index,
    a.customer_no,
    coalesce(r.need_driver, 'UNKNOWN') as needs_group,
    r.amount_lcy_t12m as needs_group_amount_lcy_t12m,
    a.opportunities_created_t12m,
    a.opportunities_with_driver_t12m,
    {{ segments_rate('a.opportunities_with_driver_t12m', 'a.opportunities_created_t12m') }}
        as need_capture_rate
from activity as a
left join ranked as r
    on r.month_index = a.month_index
   and r.customer_no = a.customer_no
   and r.precedence = 1

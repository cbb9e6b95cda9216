{#-
  Published: methodology §11, the counts behind the migration rates. For every segment month M
  whose M-12 has assignments, and every segmentation: customers by segment at M-12 (NEW for a
  customer active at M without a segment at M-12) and segment at M (INACTIVE for a customer with a
  segment at M-12 and none at M).
-#}
{%- set lag = segments_cohort_lag() -%}

with months as (

    select m.month, m.month_index
    from {{ ref('int_segment_months') }} as m

),

assignments as (

    select a.month_index, a.customer_no, a.segmentation, a.segment
    from {{ ref('int_segment_assignments') }} as a

),

cohort_months as (

    select m.month, m.month_index
    from months as m
    where exists (
        select 1 from assignments as a where a.month_index = m.month_index - {{ lag }}
    )

),

cohort_rows as (

    select cm.month_index, a.customer_no, a.segmentation, a.segment
    from cohort_months as cm
    inner join assignments as a
        on a.month_index = cm.month_index - {{ lag }}

),

current_rows as (

    select cm.month_index, a.customer_no, a.segmentation, a.segment
    from cohort_months as cm
    inner join assignments as a
        on a.month_index = cm.month_index

),

pairs as (

    select
        coalesce(b.month_index, n.month_index) as month_index,
        coalesce(b.segmentation, n.segmentation) as segmentation,
        case when b.customer_no is null then 'NEW' else b.segment end as from_segment,
        case when n.customer_no is null then 'INACTIVE' else n.segment end as to_segment,
        coalesce(b.customer_no, n.customer_no) as customer_no
    from cohort_rows as b
    full outer join current_rows as n
        on n.month_index = b.month_index
       and n.customer_no = b.customer_no
       and n.segmentation = b.segmentation

)

select
    cm.month,
    p.segmentation,
    p.from_segment,
    p.to_segment,
    cast(count(*) as bigint) as customers,
    {{ segments_config_version() }} as config_version
from pairs as p
inner join cohort_months as cm
    on cm.month_index = p.month_index
group by cm.month, p.segmentation, p.from_segment, p.to_segment

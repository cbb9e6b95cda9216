{#-
  Methodology §6: the months M that get segments. Every month from the `first_segment_month_index`-th
  month counted from the first month of `erp/sales_lines` data (the 12th by default) up to the
  newest month of data (the newest month of the sales lines or of the profit facts), gaps included.
-#}
{%- set first_index = segments_setting('first_segment_month_index', 1) -%}

with sales_bounds as (

    select min(sl.month) as first_month, max(sl.month) as last_month
    from {{ ref('int_sales_lines') }} as sl

),

profit_bounds as (

    select max(p.month) as last_month
    from {{ ref('int_customer_profit_monthly') }} as p

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 's.first_month') }} as date) as first_month_start,
        {{ segments_month_index('s.first_month') }} as first_index,
        case
            when p.last_month is null or s.last_month >= p.last_month
                then {{ segments_month_index('s.last_month') }}
            else {{ segments_month_index('p.last_month') }}
        end as last_index
    from sales_bounds as s
    cross join profit_bounds as p
    where s.first_month is not null

),

numbers as (

    {{ dbt.generate_series(1200) }}

),

spine as (

    select
        b.first_index + n.generated_number - 1 as month_index,
        n.generated_number as month_number,
        cast({{ dbt.dateadd('month', 'n.generated_number - 1', 'b.first_month_start') }} as date) as month_start
    from bounds as b
    cross join numbers as n
    where n.generated_number - 1 <= b.last_index - b.first_index

)

select
    {{ month_end('s.month_start') }} as month,
    cast(s.month_index as bigint) as month_index,
    cast(s.month_number as bigint) as month_number
from spine as s
where s.month_number >= {{ first_index }}

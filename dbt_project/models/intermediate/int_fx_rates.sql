-- The exchange rate of each month and currency (methodology §1): erp/fx_rates' rate_to_lcy of the
-- month (its period_end; should a month carry two period_ends, the later one wins). LCY is not
-- listed: it always converts at 1, whatever fx_rates says (see convert_to_lcy).

with rates as (

    select
        {{ month_end('period_end') }} as month,
        currency,
        rate_to_lcy,
        row_number() over (
            partition by {{ month_end('period_end') }}, currency
            order by period_end desc
        ) as rate_rank
    from {{ ref('stg_erp__fx_rates') }}
    where currency <> {{ strata_lcy() }}

)

select month, currency, rate_to_lcy
from rates
where rate_rank = 1

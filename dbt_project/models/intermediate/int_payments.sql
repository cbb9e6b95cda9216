-- Customer payment rows (one per payment and invoice it is applied to) with their fiscal month,
-- resolved customer, LCY amount (rate of the payment month), lateness and the imputed receivables
-- carrying cost (methodology §4):
--   days_outstanding = max(0, payment_date - invoice_date)
--   invoice_date     = the earliest posting_date of the INVOICE lines whose document_no the payment
--                      names (any customer's: the document number identifies the invoice);
--                      where that invoice is not in the data: due_date - payment_terms_days of the
--                      payment's customer. An UNASSIGNED payment has no terms: 0 days, i.e. the
--                      invoice date is taken as the due date (only days past due are charged).
--   carrying_cost_lcy = amount_lcy × days_outstanding × receivables_annual_rate / days_per_year
-- Incremental by the payment's month (docs/incremental.md): a changed invoice line dirties the
-- months of the payments that name its document.
{{ config(**strata_by_month('fact')) }}

with payments as (

    select * from {{ ref('stg_erp__payments') }}
    where {{ strata_plan_months(month_end('payment_date'), 'fact') }}

),

customers as (

    select customer_no, payment_terms_days from {{ ref('int_customers') }}

),

invoices as (

    select document_no, min(posting_date) as invoice_date
    from {{ ref('stg_erp__sales_lines') }}
    where document_type = 'INVOICE'
    {%- if strata_is_incremental() %}
        and document_no in (select document_no from payments)
    {%- endif %}
    group by document_no

),

rates as (

    select month, currency, rate_to_lcy from {{ ref('int_fx_rates') }}

),

resolved as (

    select
        payments.payment_no,
        payments.document_no,
        coalesce(customers.customer_no, {{ unassigned_customer() }}) as customer_no,
        {{ month_end('payments.payment_date') }} as month,
        payments.payment_date,
        payments.due_date,
        payments.currency,
        payments.amount,
        invoices.invoice_date as invoice_posting_date,
        coalesce(customers.payment_terms_days, 0) as payment_terms_days
    from payments
    left join customers
        on payments.customer_no = customers.customer_no
    left join invoices
        on payments.document_no = invoices.document_no

),

dated as (

    select
        resolved.*,
        coalesce(
            invoice_posting_date,
            cast({{ dbt.dateadd('day', '-1 * payment_terms_days', 'due_date') }} as date)
        ) as invoice_date
    from resolved

),

converted as (

    select
        dated.*,
        {{ convert_to_lcy('dated.amount', 'dated.currency', 'rates.rate_to_lcy') }} as amount_lcy,
        {{ dbt.datediff('dated.invoice_date', 'dated.payment_date', 'day') }} as days_since_invoice
    from dated
    left join rates
        on dated.month = rates.month
        and dated.currency = rates.currency

),

outstanding as (

    select
        converted.*,
        case when days_since_invoice > 0 then days_since_invoice else 0 end as days_outstanding
    from converted

)

select
    payment_no,
    document_no,
    customer_no,
    month,
    payment_date,
    due_date,
    invoice_date,
    case when invoice_posting_date is not null then 'INVOICE' else 'PAYMENT_TERMS' end as invoice_date_source,
    days_outstanding,
    payment_date > due_date as is_late,
    amount_lcy,
    {{ decimal_divide(
        money_times(money_times_count('amount_lcy', 'days_outstanding'), strata_decimal('cost_to_serve.receivables_annual_rate')),
        strata_decimal('cost_to_serve.days_per_year')) }} as carrying_cost_lcy
from outstanding

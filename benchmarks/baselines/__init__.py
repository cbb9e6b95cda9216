"""Independent re-implementations of fct_customer_profit_monthly (methodology §1-4), kept apart from
the pipeline on purpose: the benchmark cross-checks the dbt models against them (docs/performance.md)."""

{#-
  Published: methodology §13's evidence. One row per segment month M and model (BG_NBD,
  GAMMA_GAMMA): the customers it was fitted on, its parameters (a JSON object: r, alpha, a, b or
  p, q, gamma), the maximised log-likelihood, whether it converged and, when it did not or was not
  fitted, why (the month's prediction columns are empty then). Written by the Dagster asset
  clv_fits (source clv.model_fits); dbt gives it the published contract.
-#}

select
    f.month,
    f.model,
    cast(f.customers as bigint) as customers,
    f.parameters,
    {{ segments_to_double('f.log_likelihood') }} as log_likelihood,
    f.converged,
    f.message,
    {{ segments_config_version() }} as config_version
from {{ source('clv', 'model_fits') }} as f

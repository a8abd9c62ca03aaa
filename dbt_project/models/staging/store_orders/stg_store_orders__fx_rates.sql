-- Written by a Python step (elt.store_orders.record_fx_rates), not validated: nothing to quarantine
with

source as (

    select * from {{ source('raw_store_orders', 'fx_rates') }}

),

final as (

    select
        rate_date,
        currency,
        cny_per_unit,
        ecb_date,
        source as rate_source
    from source

)

select * from final

-- A view. Only what is not personal: the customer's name, birth date and e-mail are left in raw
with

passed as (

    {{ passed_rows('subscriptions', 'customers') }}

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('gender') }} as gender,
        {{ clean_text('region') }} as region
    from passed

)

select * from final

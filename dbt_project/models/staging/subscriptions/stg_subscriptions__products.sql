-- A view over the products of each snapshot
with

passed as (

    {{ passed_rows('subscriptions', 'products') }}

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('name') }} as product_name,
        {{ clean_text('categoryid') }} as category_id,
        {{ clean_text('categoryname') }} as category_name,
        {{ safe_numeric('baseprice') }} as base_price,
        {{ clean_text('unit') }} as unit,
        {{ clean_text('weight') }} as weight,
        {{ subscriptions_local_timestamptz('createddate', 'products') }} as created_at
    from passed

)

select * from final

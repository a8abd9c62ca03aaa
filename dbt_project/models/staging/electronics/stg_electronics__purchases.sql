-- A view: the fact reads each partition once, so typing it here costs nothing extra
with

passed as (

    {{ passed_rows('electronics', 'purchases') }}

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ safe_cast('event_time', 'timestamptz') }} as event_at,
        {{ safe_cast('order_id', 'bigint') }} as order_id,
        {{ safe_cast('product_id', 'bigint') }} as product_id,
        {{ safe_cast('category_id', 'bigint') }} as category_id,
        {{ clean_text('category_code') }} as category_code,
        {{ clean_text('brand') }} as brand,
        {{ safe_money('price') }} as price,
        {{ safe_cast('user_id', 'bigint') }} as user_id
    from passed

)

select * from final

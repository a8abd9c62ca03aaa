with

passed as (

    {{ passed_rows('thelook', 'inventory_items') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as inventory_item_id,
        {{ safe_cast('product_id', 'bigint') }} as product_id,
        {{ safe_utc_timestamp('created_at') }} as created_at,
        {{ safe_utc_timestamp('sold_at') }} as sold_at,
        {{ safe_money('cost') }} as unit_cost,
        {{ safe_cast('product_distribution_center_id', 'bigint') }} as distribution_center_id,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final

with

passed as (

    {{ passed_rows('thelook', 'products') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as product_id,
        {{ safe_money('cost') }} as unit_cost,
        {{ clean_text('category') }} as category,
        {{ clean_text('name') }} as product_name,
        {{ clean_text('brand') }} as brand,
        {{ safe_money('retail_price') }} as retail_price,
        {{ clean_text('department') }} as department,
        {{ clean_text('sku') }} as sku,
        {{ safe_cast('distribution_center_id', 'bigint') }} as distribution_center_id,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final

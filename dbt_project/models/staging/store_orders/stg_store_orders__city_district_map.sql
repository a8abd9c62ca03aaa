with

passed as (

    {{ passed_rows('store_orders', 'city_district_map') }}

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('city_district_id') }} as city_district_id,
        {{ clean_text('ship_to_city_cd') }} as city_name,
        {{ clean_text('ship_to_district_name') }} as district_name
    from passed

)

select * from final

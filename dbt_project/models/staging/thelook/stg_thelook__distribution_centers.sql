with

passed as (

    {{ passed_rows('thelook', 'distribution_centers') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as distribution_center_id,
        {{ clean_text('name') }} as distribution_center_name,
        {{ safe_numeric('latitude') }} as latitude,
        {{ safe_numeric('longitude') }} as longitude,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final

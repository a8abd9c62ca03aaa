with

source as (

    select * from {{ source('raw_thelook', 'distribution_centers') }}

),

quarantined as (

    {{ quarantined('thelook', 'distribution_centers') }}

),

passed as (

    select source.*
    from source
    where not exists (
        select 1
        from quarantined
        where
            quarantined.source_file = source._source_file
            and quarantined.source_row = source._source_row
    )

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

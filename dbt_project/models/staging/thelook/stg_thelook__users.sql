with

passed as (

    {{ passed_rows('thelook', 'users') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as user_id,
        {{ safe_cast('age', 'integer') }} as age,
        {{ clean_text('gender') }} as gender,
        {{ clean_text('state') }} as state,
        {{ clean_text('city') }} as city,
        {{ clean_text('postal_code') }} as postal_code,
        {{ clean_text('country') }} as country,
        {{ safe_numeric('latitude') }} as latitude,
        {{ safe_numeric('longitude') }} as longitude,
        {{ clean_text('traffic_source') }} as traffic_source,
        {{ safe_utc_timestamp('created_at') }} as created_at,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('email') }} as email,
        {{ clean_text('street_address') }} as street_address,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final

with

passed as (

    {{ passed_rows('thelook', 'events') }}

),

final as (

    select
        {{ safe_cast('id', 'bigint') }} as event_id,
        {{ safe_cast('user_id', 'bigint') }} as user_id,
        {{ safe_integer('sequence_number') }} as sequence_number,
        {{ clean_text('session_id') }} as session_id,
        {{ safe_utc_timestamp('created_at') }} as created_at,
        {{ clean_text('browser') }} as browser,
        {{ clean_text('traffic_source') }} as traffic_source,
        {{ clean_text('uri') }} as uri,
        {{ clean_text('event_type') }} as event_type,
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row
    from passed

)

select * from final

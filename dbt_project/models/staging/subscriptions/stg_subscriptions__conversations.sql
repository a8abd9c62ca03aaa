-- A view. No phone number and no message text: whether a message has a phone, and how many the list holds
with

passed as (

    {{ passed_rows('subscriptions', 'conversations') }}

),

final as (

    select
        _partition_date as partition_date,
        _source_file as source_file,
        _source_row as source_row,
        _batch_id as batch_id,
        {{ clean_text('message_id') }} as message_id,
        {{ clean_text('conversation_id') }} as conversation_id,
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('sender') }} as sender,
        {{ subscriptions_local_timestamptz('created_at', 'conversations') }} as created_at,
        case btrim(has_phone) when 'True' then true when 'False' then false end as has_phone,
        -- phone_info is a Python list literal (['+5577127600', '+5511999990000'], [None], []), not JSON: the phones
        -- are its quoted strings that are not empty, counted with a regex; null when it is no list literal (the
        -- suite's test, rule phone_info_is_list)
        case
            when btrim(phone_info) ~ '^\[\s*((''[^'']*''|None)\s*(,\s*(''[^'']*''|None)\s*)*,?\s*)?\]$'
                then regexp_count(phone_info, '''[^'']+''')
        end as phone_count
    from passed

)

select * from final

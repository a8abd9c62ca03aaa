-- Within a segment type, no value falls in two segments of the seed voucher_segments.
{{ config(tags=['vouchers']) }}

with

segments as (

    select * from {{ ref('voucher_segments') }}

),

overlapping as (

    select
        segments.segment_type,
        segments.segment,
        other_segments.segment as overlapping_segment
    from segments
    inner join segments as other_segments
        on
            segments.segment_type = other_segments.segment_type
            and segments.segment < other_segments.segment
            and segments.min_value <= coalesce(other_segments.max_value, 2147483647)
            and other_segments.min_value <= coalesce(segments.max_value, 2147483647)

),

final as (

    select * from overlapping

)

select * from final

-- Ephemeral: inlined into the mart, for the dates its build makes (its pre-hook lists them).

with

assignment_values as (

    -- the assignments counted at each date the build makes, per value (a few thousand per date)
    select * from {{ ref('int_voucher_assignment_values') }}
    where
        counts_from is null
        and as_of_date in (select {{ as_of_builds() }}.as_of_date from {{ as_of_builds() }})

),

segments as (

    select * from {{ ref('voucher_segments') }}

),

final as (

    select
        assignment_values.as_of_date,
        assignment_values.country_code,
        assignment_values.segment_type,
        segments.segment,
        assignment_values.voucher_amount,
        cast(sum(assignment_values.assignments) as bigint) as assignments
    from assignment_values
    inner join segments
        on
            assignment_values.segment_type = segments.segment_type
            and assignment_values.segment_value >= segments.min_value
            and (segments.max_value is null or assignment_values.segment_value <= segments.max_value)
    group by
        assignment_values.as_of_date,
        assignment_values.country_code,
        assignment_values.segment_type,
        segments.segment,
        assignment_values.voucher_amount

)

select * from final

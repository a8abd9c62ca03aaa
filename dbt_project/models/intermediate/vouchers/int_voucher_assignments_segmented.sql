-- Ephemeral: depends on the dates the mart's build makes (its pre-hook lists them), so it is inlined into the mart.
with

assignments as (

    select * from {{ ref('stg_vouchers__voucher_assignments') }}

),

segments as (

    select * from {{ ref('voucher_segments') }}

),

as_of as (

    -- the run's date, and later dates whose inputs changed (macros/as_of_builds.sql)
    select as_of_date from {{ as_of_builds() }}

),

assignments_as_of as (

    -- every assignment made before the end of the as-of date, from any partition loaded up to that date:
    -- rows that arrive in a later partition (a late or re-sent file) do not change a past day, so a
    -- backfill of a date gives the numbers that date gave, whatever was loaded since
    select
        as_of.as_of_date,
        assignments.country_code,
        assignments.voucher_amount,
        assignments.total_orders,
        as_of.as_of_date - assignments.last_order_date as days_since_last_order
    from assignments
    cross join as_of
    where
        assignments.assigned_at < as_of.as_of_date + 1
        and assignments.partition_date <= as_of.as_of_date
        and assignments.country_code is not null
        and assignments.voucher_amount is not null

),

segment_values as (

    -- counted per value before the segments' range join: a few thousand values instead of a row per assignment
    select
        as_of_date,
        country_code,
        voucher_amount,
        'frequent_segment' as segment_type,
        total_orders as segment_value,
        count(*) as assignments
    from assignments_as_of
    where total_orders is not null
    group by as_of_date, country_code, voucher_amount, total_orders

    union all

    select
        as_of_date,
        country_code,
        voucher_amount,
        'recency_segment' as segment_type,
        days_since_last_order as segment_value,
        count(*) as assignments
    from assignments_as_of
    where days_since_last_order is not null
    group by as_of_date, country_code, voucher_amount, days_since_last_order

),

final as (

    select
        segment_values.as_of_date,
        segment_values.country_code,
        segment_values.segment_type,
        segments.segment,
        segment_values.voucher_amount,
        cast(sum(segment_values.assignments) as bigint) as assignments
    from segment_values
    inner join segments
        on
            segment_values.segment_type = segments.segment_type
            and segment_values.segment_value >= segments.min_value
            and (segments.max_value is null or segment_values.segment_value <= segments.max_value)
    group by
        segment_values.as_of_date,
        segment_values.country_code,
        segment_values.segment_type,
        segments.segment,
        segment_values.voucher_amount

)

select * from final

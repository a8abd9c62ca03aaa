{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook=[
            "{{ prepare_as_of_builds(vouchers_as_of_inputs()) }}",
            "{{ prepare_as_of_bases(vouchers_as_of_inputs()) }}",
            "{{ delete_as_of_builds() }}",
        ],
        indexes=[{'columns': ['as_of_date']}],
    )
}}

-- A build makes the run's date, and later dates whose inputs changed (macros/as_of_builds.sql): from the day
-- before and the date's own partition when the day before is current, else from every partition up to the date.

with

segments as (

    select * from {{ ref('voucher_segments') }}

),

recency_cap as (

    -- every recency from this many days on is in the same segments: counted together, so a date's rows stay few
    select greatest(max(min_value), max(max_value) + 1) as from_days
    from segments
    where segment_type = 'recency_segment'

),

builds as (

    -- a date with a base reads only its own partition (the day before holds the rest), else every one up to it
    select
        builds.as_of_date,
        builds.inputs_fingerprint,
        bases.base_date,
        case when bases.base_date is null then cast('-infinity' as date) else builds.as_of_date end as read_from
    from {{ as_of_builds() }} as builds
    inner join {{ as_of_bases() }} as bases on builds.as_of_date = bases.as_of_date

),

read_assignments as (

    select
        builds.as_of_date,
        assignments.partition_date,
        assignments.assigned_at,
        assignments.country_code,
        assignments.voucher_amount,
        assignments.total_orders,
        assignments.last_order_date
    from {{ ref('stg_vouchers__voucher_assignments') }} as assignments
    inner join builds
        on
            assignments.partition_date >= builds.read_from
            and assignments.partition_date <= builds.as_of_date

),

dated_assignments as (

    -- an assignment counts from the end of the day it was made, and never before its partition is loaded: one
    -- made after the as-of date waits in the date's rows (counts_from), with its recency taken on that day
    select
        valued.as_of_date,
        valued.country_code,
        valued.voucher_amount,
        valued.total_orders,
        -- not least() alone: it would take a null (no last order date) for the cap
        case
            when valued.last_order_date is not null
                then least(valued.values_on - valued.last_order_date, recency_cap.from_days)
        end as days_since_last_order,
        nullif(valued.values_on, valued.as_of_date) as counts_from
    from (
        select
            as_of_date,
            country_code,
            voucher_amount,
            total_orders,
            last_order_date,
            greatest(partition_date, cast(assigned_at as date), as_of_date) as values_on
        from read_assignments
        where assigned_at is not null and country_code is not null and voucher_amount is not null
    ) as valued
    cross join recency_cap

),

assignment_keys as (

    -- counted first per combination of values (a few thousand a day, however many rows), then per segment type
    select
        as_of_date,
        country_code,
        voucher_amount,
        total_orders,
        days_since_last_order,
        counts_from,
        count(*) as assignments
    from dated_assignments
    group by as_of_date, country_code, voucher_amount, total_orders, days_since_last_order, counts_from

),

counted_values as (

    -- each assignment once per segment type it has a value for
    select
        assignment_keys.as_of_date,
        assignment_keys.country_code,
        assignment_keys.voucher_amount,
        by_type.segment_type,
        by_type.segment_value,
        assignment_keys.counts_from,
        sum(assignment_keys.assignments) as assignments
    from assignment_keys
    cross join
        lateral (
            values
            ('frequent_segment', assignment_keys.total_orders),
            ('recency_segment', assignment_keys.days_since_last_order)
        ) as by_type (segment_type, segment_value)
    where by_type.segment_value is not null
    group by
        assignment_keys.as_of_date,
        assignment_keys.country_code,
        assignment_keys.voucher_amount,
        by_type.segment_type,
        by_type.segment_value,
        assignment_keys.counts_from

),

carried_values as (

    -- the day before's rows, a day on: counted recencies grow by one day; waiting rows count from their date
    select
        builds.as_of_date,
        day_before.country_code,
        day_before.voucher_amount,
        day_before.segment_type,
        case
            when day_before.segment_type = 'recency_segment' and day_before.counts_from is null
                then least(day_before.segment_value + 1, recency_cap.from_days)
            else day_before.segment_value
        end as segment_value,
        nullif(day_before.counts_from, builds.as_of_date) as counts_from,
        day_before.assignments
    -- a first build has no day before (no base_date): counted_values stands in for the table it creates
    from {{ this if is_incremental() else 'counted_values' }} as day_before
    inner join builds on day_before.as_of_date = builds.base_date
    cross join recency_cap

),

final as (

    select
        combined.as_of_date,
        combined.country_code,
        combined.voucher_amount,
        combined.segment_type,
        combined.segment_value,
        combined.counts_from,
        cast(sum(combined.assignments) as bigint) as assignments,
        builds.inputs_fingerprint
    from (
        select * from counted_values
        union all
        select * from carried_values
    ) as combined
    inner join builds on combined.as_of_date = builds.as_of_date
    group by
        combined.as_of_date,
        combined.country_code,
        combined.voucher_amount,
        combined.segment_type,
        combined.segment_value,
        combined.counts_from,
        builds.inputs_fingerprint

)

select * from final

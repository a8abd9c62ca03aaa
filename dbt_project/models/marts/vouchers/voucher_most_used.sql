{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ delete_partition('as_of_date') }}",
        post_hook="{{ create_most_used_voucher_function() }}",
        indexes=[
            {'columns': ['as_of_date']},
            {'columns': ['country_code', 'segment_type', 'segment', 'as_of_date']},
        ],
    )
}}

-- depends_on: {{ ref('voucher_segments') }} (read by marts.most_used_voucher, created in the post-hook)

with

segmented as (

    select * from {{ ref('int_voucher_assignments_segmented') }}

),

amount_counts as (

    select
        as_of_date,
        country_code,
        segment_type,
        segment,
        voucher_amount,
        count(*) as assignments
    from segmented
    group by as_of_date, country_code, segment_type, segment, voucher_amount

),

ranked as (

    select
        as_of_date,
        country_code,
        segment_type,
        segment,
        voucher_amount,
        assignments,
        cast(
            sum(assignments) over (partition by as_of_date, country_code, segment_type, segment) as bigint
        ) as segment_assignments,
        -- the most assigned amount; a tie goes to the smaller amount
        row_number() over (
            partition by as_of_date, country_code, segment_type, segment
            order by assignments desc, voucher_amount asc
        ) as amount_rank
    from amount_counts

),

final as (

    select
        as_of_date,
        country_code,
        segment_type,
        segment,
        voucher_amount,
        assignments,
        segment_assignments
    from ranked
    where amount_rank = 1

)

select * from final

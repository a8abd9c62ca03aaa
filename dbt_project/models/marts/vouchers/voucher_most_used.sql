{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook=[
            "{{ prepare_as_of_builds_from(ref('int_voucher_assignment_values')) }}",
            "{{ delete_as_of_builds() }}",
        ],
        post_hook="{{ create_most_used_voucher_function() }}",
        indexes=[
            {'columns': ['as_of_date']},
            {'columns': ['country_code', 'segment_type', 'segment', 'as_of_date']},
        ],
    )
}}

-- depends_on: {{ ref('voucher_segments') }} (read by marts.most_used_voucher, created in the post-hook)
-- A build makes the run's date, and the later dates int_voucher_assignment_values made again (macros/as_of_builds.sql).

with

builds as (

    select * from {{ as_of_builds() }}

),

segmented as (

    select * from {{ ref('int_voucher_assignments_segmented') }}

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
    from segmented

),

final as (

    select
        ranked.as_of_date,
        ranked.country_code,
        ranked.segment_type,
        ranked.segment,
        ranked.voucher_amount,
        ranked.assignments,
        ranked.segment_assignments,
        builds.inputs_fingerprint
    from ranked
    inner join builds on ranked.as_of_date = builds.as_of_date
    where ranked.amount_rank = 1

)

select * from final

{#
    The combination of `columns` is unique in the model (a grain test):
        data_tests:
          - unique_combination:
              arguments:
                columns: [as_of_date, country_code]
#}
{% test unique_combination(model, columns) %}

with

grouped as (
    select
        {{ columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
),

final as (
    select * from grouped
    where n_rows > 1
)

select * from final

{% endtest %}

{#
    Every row of the model satisfies the boolean SQL `expression` (a null result counts as a
    failure):
        data_tests:
          - expression_is_true:
              arguments:
                expression: "assignments <= segment_assignments"
#}
{% test expression_is_true(model, expression) %}

with

final as (
    select * from {{ model }}
    where not coalesce({{ expression }}, false)
)

select * from final

{% endtest %}

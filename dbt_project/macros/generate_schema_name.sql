{#
    Models land in exactly the schema configured with `+schema` (staging, intermediate, marts),
    not in dbt's default `<target_schema>_<custom_schema>`. Nodes without a custom schema use the
    target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

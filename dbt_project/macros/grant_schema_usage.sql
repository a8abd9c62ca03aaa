{#
    `grant usage on schema <this model's schema> to <role>`, for a post-hook. Two builds granting at once
    (Cosmos seeds in parallel, backfills) fail with "tuple concurrently updated" on pg_namespace's row: the
    lock makes the second wait until the first commits.
#}
{% macro grant_schema_usage(role) -%}
    select pg_advisory_xact_lock(hashtext('grant usage on schema {{ this.schema }}'));
    grant usage on schema {{ adapter.quote(this.schema) }} to {{ adapter.quote(role) }}
{%- endmacro %}

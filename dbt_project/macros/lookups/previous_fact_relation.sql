{#
    The relation of a model built later in the same run, as it stands before that build (its previous
    state), or none when it does not exist yet. For a model that must see what another is about to
    replace, without a ref (which would make it run after). dbt-only Jinja (adapter, target): sqlfluff
    lints with a stub (.sqlfluff).
#}
{% macro previous_relation(schema, identifier) -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=identifier)) }}
{%- endmacro %}

"""Checksums of what the pipeline wrote (raw rows, exceptions, intermediate and mart tables), to prove that two
ways of running it (one after another, several at once) give the same warehouse."""

from __future__ import annotations

from psycopg import sql

from elt import warehouse

# per-run identifiers and clock times: legitimately different between two equal runs
VOLATILE_COLUMNS = {"_batch_id", "_loaded_at", "run_id", "batch_id", "detected_at"}


def checksums(params: warehouse.ServerParams) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows) of every raw, intermediate and mart table and of audit.dq_exceptions."""
    with warehouse.connect(params) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE' and (table_schema like 'raw\\_%' or table_schema in"
            " ('intermediate', 'marts') or (table_schema, table_name) = ('audit', 'dq_exceptions'))"
            " and table_name not in (select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid)"
            " order by 1, 2"
        ).fetchall()
        result = {}
        for schema, table in tables:
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                    " order by ordinal_position",
                    (schema, table),
                )
                if name not in VOLATILE_COLUMNS
            ]
            row = sql.SQL("row({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
            count, digest = conn.execute(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(r, e'\\n' order by r), '')) from (select {} r from {}) t"
                ).format(row, sql.Identifier(schema, table))
            ).fetchone()
            result[f"{schema}.{table}"] = (count, digest)
    return result

"""Many rows in one statement: what a burst of alerts writes (alerts, their events, deliveries).

On PostgreSQL each column's values go as one array (`unnest`), a statement of a few parameters:
written as VALUES rows, a burst's thousands of placeholders were parsed by psycopg in Python
(0.7 s of CPU for 2,000 deliveries, against 0.08 s this way). SQLite takes the rows as an
executemany of one cached statement.
"""
from __future__ import annotations

import re

from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection


def insert_rows(connection: Connection, table: Table, rows: list[dict], *, returning: tuple[str, ...] = (),
                skip_duplicate: str | None = None) -> list[tuple]:
    """INSERT `rows` (dicts with the same keys) into `table`; `skip_duplicate` names the unique
    column whose duplicates are skipped. Returns the `returning` columns of the rows inserted."""
    if not rows:
        return []
    postgresql = connection.dialect.name == "postgresql"
    if postgresql and len(rows) > 1 and all(row.keys() == rows[0].keys() for row in rows):
        return _insert_from_arrays(connection, table, rows, returning, skip_duplicate)
    statement = (pg_insert if postgresql else sqlite_insert)(table)
    if skip_duplicate:
        statement = statement.on_conflict_do_nothing(index_elements=[skip_duplicate])
    if not returning:
        connection.execute(statement, rows)
        return []
    # rowcount is -1 for an executemany on psycopg: what was inserted is what comes back
    return [tuple(row) for row in connection.execute(statement.returning(*(table.c[c] for c in returning)), rows)]


def _insert_from_arrays(connection: Connection, table: Table, rows: list[dict], returning: tuple[str, ...],
                        skip_duplicate: str | None) -> list[tuple]:
    dialect = connection.dialect
    columns = list(rows[0])
    arrays, casts = {}, []
    for n, name in enumerate(columns):
        column_type = table.c[name].type
        process = column_type.bind_processor(dialect)  # what the column's type does to a value
        arrays[f"a{n}"] = [process(row[name]) if process else row[name] for row in rows]
        # The type without its length: an explicit cast would cut a long value short, where the
        # column's own check refuses it (as the one-row INSERT does).
        sql_type = re.sub(r"\(\d+\)", "", column_type.compile(dialect=dialect))
        casts.append(f"CAST(:a{n} AS {sql_type}[])")
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) SELECT * FROM unnest({", ".join(casts)})'
    if skip_duplicate:
        sql += f" ON CONFLICT ({skip_duplicate}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
        return [tuple(row) for row in connection.execute(text(sql), arrays)]
    connection.execute(text(sql), arrays)
    return []

"""Many rows in one statement: what a burst of alerts writes (alerts, their events, deliveries).

On PostgreSQL the rows go as one JSON document read by `json_populate_recordset`: one parameter,
written by the standard library's C encoder. As VALUES rows, a burst's thousands of placeholders
were parsed by psycopg in Python (0.7 s of CPU for 2,000 deliveries); as one array per column
(`unnest`), psycopg's array dumper still visited every value in Python. SQLite takes the rows as
an executemany of one cached statement.
"""
from __future__ import annotations

import json
from datetime import date, datetime

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
    if postgresql and len(rows) > 1 and all(row.keys() == rows[0].keys() and not any(
            isinstance(value, (bytes, memoryview)) for value in row.values()) for row in rows):
        return _insert_from_json(connection, table, rows, returning, skip_duplicate)
    statement = (pg_insert if postgresql else sqlite_insert)(table)
    if skip_duplicate:
        statement = statement.on_conflict_do_nothing(index_elements=[skip_duplicate])
    if not returning:
        connection.execute(statement, rows)
        return []
    # rowcount is -1 for an executemany on psycopg: what was inserted is what comes back
    return [tuple(row) for row in connection.execute(statement.returning(*(table.c[c] for c in returning)), rows)]


def _insert_from_json(connection: Connection, table: Table, rows: list[dict], returning: tuple[str, ...],
                      skip_duplicate: str | None) -> list[tuple]:
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    processors = [(name, table.c[name].type.bind_processor(dialect)) for name in columns]
    document = json.dumps([{name: process(row[name]) if process else row[name] for name, process in processors}
                           for row in rows], default=_json_value, separators=(",", ":"))
    names = ", ".join(quote(name) for name in columns)
    # Each value is read by its column's own type, so a value too long for its column is refused
    # (as the one-row INSERT refuses it), never cut short.
    sql = (f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
           f"FROM json_populate_recordset(NULL::{quote(table.name)}, CAST(:rows AS json))")
    if skip_duplicate:
        sql += f" ON CONFLICT ({quote(skip_duplicate)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(quote(name) for name in returning)}"
        return [tuple(row) for row in connection.execute(text(sql), {"rows": document})]
    connection.execute(text(sql), {"rows": document})
    return []


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot go through JSON")  # insert_rows sends these as rows

"""A database error, when it is logged, carries no values from the row (they are personal data)."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def test_a_database_error_does_not_carry_the_rows_values(engine):
    with pytest.raises(DBAPIError) as raised, engine.connect() as connection:
        connection.execute(text("INSERT INTO no_such_table (name) VALUES (:name)"), {"name": "Wren Walker"})
    assert "Wren Walker" not in str(raised.value)


"""Make a table append-only in the database itself (used by migrations).

Only the retention job may delete (or blank a location in) such a row: it writes a row to
`retention_pass` inside its own transaction first, which no other transaction can see. Tables
made append-only before `retention_pass` existed refuse everything until remade with
`allow_retention` (the audit trail and the licence register are never remade: nothing deletes them).
"""
from alembic import op
from sqlalchemy import inspect

# Only the retention path lets a row change or go (services/retention.py).
_PG_RETAINED = (
    "CREATE OR REPLACE FUNCTION fieldline_append_only_retained() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF EXISTS (SELECT 1 FROM retention_pass) THEN "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; "
    "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
)


def _retention_pass_exists() -> bool:
    return "retention_pass" in inspect(op.get_bind()).get_table_names()


def make_append_only(table: str) -> None:
    """The database refuses to change or remove a row of this table."""
    if op.get_bind().dialect.name == "postgresql":
        if _retention_pass_exists():
            op.execute(_PG_RETAINED)
            function = "fieldline_append_only_retained"
        else:
            op.execute("CREATE OR REPLACE FUNCTION fieldline_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$")
            function = "fieldline_append_only"
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    else:
        unless = " WHEN NOT EXISTS (SELECT 1 FROM retention_pass)" if _retention_pass_exists() else ""
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}{unless} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def allow_retention(table: str) -> None:
    """Remake a table's append-only triggers so that the retention pass, and only it, gets through."""
    drop_append_only(table)
    make_append_only(table)

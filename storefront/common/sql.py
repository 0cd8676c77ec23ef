"""SQL functions that live in `.sql` files beside the app that owns them.

A migration installs a file with `run_sql_file`; the file holds `CREATE OR REPLACE` statements,
so installing it again is harmless. A change to a file ships with a new migration that runs it
again, and `installed_definitions_differ` (used by the tests) tells whether the database holds
what the file says.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.db import connection, migrations, transaction
from django.db.models import Field, Model

APPS_DIR = Path(__file__).resolve().parent.parent


def sql_file(app: str, name: str) -> str:
    """The text of storefront/<app>/sql/<name>."""
    return (APPS_DIR / app / "sql" / name).read_text()


def run_sql_file(
    app: str, name: str, *, reverse_sql: str | list[str | tuple[str, Any]] | None
) -> migrations.RunSQL:
    """Installs the file; `reverse_sql` undoes it (None: the migration cannot be reversed)."""
    return migrations.RunSQL(sql_file(app, name), reverse_sql)


def column_field(model: type[Model], name: str) -> tuple[Field, str]:
    """The model's field `name` and its column, for SQL written by hand: a field with a column
    in the model's own table (not the reverse side of a relation, not a many-to-many)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{name} has no column in {model._meta.db_table}")
    return field, field.column


def copy_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> None:
    """Writes the rows (values of `fields`, in order) into the model's table by COPY: several
    times faster than INSERT, for bulk loads. Joins the caller's transaction."""
    columns = ", ".join(column_field(model, name)[1] for name in fields)
    copy_sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def function_definitions(names: list[str]) -> dict[str, str]:
    """pg_get_functiondef() of every function with one of these names, by signature."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p "
            "WHERE p.proname = ANY (%s) AND pg_function_is_visible(p.oid)",
            [names],
        )
        return dict(cursor.fetchall())


def installed_definitions_differ(app: str, name: str, functions: list[str]) -> dict[str, str]:
    """Runs the file inside a savepoint that is rolled back, and returns the functions whose
    definition it would change (or add): empty when the database holds what the file says."""
    before = function_definitions(functions)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql_file(app, name))
        after = function_definitions(functions)
        transaction.set_rollback(True)
    return {signature: text for signature, text in after.items() if before.get(signature) != text}

"""Statements written once per process for the busiest write there is, logging a promise (PostgreSQL).

The ORM writes the same ``INSERT`` again for every row it saves, field by field (quoting each
column, asking each field how it compiles): for a new commitment with its customer, timeline
event, search words and acknowledgement, that was about a fifth of the request's Python. Here the
text of each statement is kept, and a row costs only its values, made as ``Model.save()`` makes
them (each field's ``pre_save``, for ``auto_now``, then ``get_db_prep_save``).

Only for models whose saving nothing else listens to: a model with ``pre_save`` or ``post_save``
receivers, or with columns the database fills in (``db_default``, generated), is saved by the ORM.
Other databases (SQLite, the first run's) go through the ORM too.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

AnyModel = TypeVar("AnyModel", bound=Model)


def in_use() -> bool:
    """Whether kept statements are written here (PostgreSQL) rather than the ORM's each time."""
    return connection.vendor == "postgresql"


def writes_directly(model: type[Model]) -> bool:
    """Whether rows of ``model`` may be inserted by a kept statement rather than by ``save()``."""
    return in_use() and _plain(model) and not _listened_to(model)


def insert(obj: Model, *, or_replace: tuple[str, ...] = ()) -> None:
    """``obj.save()`` of a new row (its primary key given or drawn by the database), with a kept statement.

    ``or_replace``: a row of the same primary key may be there already; its values of these fields are
    then replaced (``bulk_create(update_conflicts=True)`` of the one row).
    """
    model = type(obj)
    if not writes_directly(model):
        if or_replace:
            model._default_manager.bulk_create(
                [obj], update_conflicts=True, unique_fields=[model._meta.pk.name], update_fields=or_replace
            )
        else:
            obj.save(force_insert=True)
        return
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    with_pk = obj.pk is not None
    assert with_pk or not or_replace, "Only a row whose key is known can replace another."
    fields, sql = _insert_statement(model, with_pk=with_pk, rows=1, replacing=or_replace, returning=())
    database = connections[DEFAULT_DB_ALIAS]
    # As ``save()`` does: a failed insert marks the transaction for rollback, so a query after a
    # caught IntegrityError fails with Django's clear error rather than PostgreSQL's.
    with transaction.mark_for_rollback_on_error(database.alias), database.cursor() as cursor:
        cursor.execute(sql, _values(obj, fields, database))
        if not with_pk:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = database.alias


def insert_new(objs: Sequence[Model], *, returning: str) -> list[tuple[Any, Any]]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING pk, <returning>`` of new rows (keys drawn by the
    database), with a statement kept per number of rows: (primary key, ``returning``) of each row written.
    Call only where ``writes_directly`` holds."""
    if not objs:
        return []
    model = type(objs[0])
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    fields, sql = _insert_statement(model, with_pk=False, rows=len(objs), replacing=None, returning=(returning,))
    database = connections[DEFAULT_DB_ALIAS]
    values = [value for obj in objs for value in _values(obj, fields, database)]
    with transaction.mark_for_rollback_on_error(database.alias), database.cursor() as cursor:
        cursor.execute(sql, values)
        return [(pk, value) for pk, value in cursor.fetchall()]


def instance_from_row(model: type[AnyModel], values: Sequence[Any]) -> AnyModel:
    """A model instance from a row of ``columns_of(model)``, as the ORM makes one (with its fields' converters)."""
    attnames, converters = _reading(model, connection.vendor)
    converted = [
        value if convert is None or value is None else convert(value)
        for value, convert in zip(values, converters, strict=True)
    ]
    return model.from_db(connection.alias, attnames, converted)


def columns_of(model: type[Model], table_alias: str) -> str:
    """Every concrete column of ``model``, in field order, qualified by ``table_alias``: for ``instance_from_row``."""
    quote = connection.ops.quote_name
    return ", ".join(f"{table_alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def _values(obj: Model, fields: Sequence["Field[Any, Any]"], database: BaseDatabaseWrapper) -> list[Any]:
    # As SQLInsertCompiler prepares a value: the field's pre_save (auto_now), then its database form.
    # (The connection itself, not django.db.connection: each look-up through that proxy costs a little.)
    return [field.get_db_prep_save(field.pre_save(obj, True), database) for field in fields]


@cache
def _plain(model: type[Model]) -> bool:
    meta = model._meta
    # A model with a ``save()`` of its own means it to run for every row: the ORM saves it.
    return (
        model.save is Model.save
        and not meta.parents
        and not any(
            field.generated or field.has_db_default()  # type: ignore[attr-defined]
            for field in meta.concrete_fields
        )
    )


def _listened_to(model: type[Model]) -> bool:
    return pre_save.has_listeners(model) or post_save.has_listeners(model)


@cache
def _insert_statement(
    model: type[Model], *, with_pk: bool, rows: int, replacing: tuple[str, ...] | None, returning: tuple[str, ...]
) -> tuple[list["Field[Any, Any]"], str]:
    """The INSERT of ``rows`` rows; ``replacing``: None, ON CONFLICT DO NOTHING; a conflict on the primary
    key replaces these fields' values; empty, a conflict is an error."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if with_pk or not field.primary_key]
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)}"
    )
    if replacing is None:
        sql += " ON CONFLICT DO NOTHING"
    elif replacing:
        replaced = [quote(_column(model, name)) for name in replacing]
        sql += f" ON CONFLICT ({quote(_column(model, meta.pk.name))}) DO UPDATE SET "
        sql += ", ".join(f"{column} = EXCLUDED.{column}" for column in replaced)
    if not with_pk:
        returned = [meta.pk.name, *returning]
        sql += f" RETURNING {', '.join(quote(_column(model, name)) for name in returned)}"
    return fields, sql


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return str(field.column)


@cache
def _reading(model: type[Model], vendor: str) -> tuple[list[str], list[Callable[[Any], Any] | None]]:
    # ``vendor`` in the key: a database's converters are its own.
    fields = model._meta.concrete_fields
    converters: list[Callable[[Any], Any] | None] = []
    for field in fields:
        field_converters = connection.ops.get_db_converters(field.cached_col) + field.get_db_converters(  # type: ignore[attr-defined]
            connection
        )
        converters.append(_chain(field_converters, field) if field_converters else None)
    return [field.attname for field in fields], converters


def _chain(converters: list[Callable[..., Any]], field: "Field[Any, Any]") -> Callable[[Any], Any]:
    expression = field.cached_col

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert

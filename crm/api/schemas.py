"""Schemas the endpoints share (marshmallow: they check what comes in and describe what goes out
in the OpenAPI description)."""
from datetime import timezone

import marshmallow as ma
from marshmallow import validate

from crm.common.numbers import MAX_ID, MAX_PAGE
from crm.common.text import safe_text

Int32 = {"strict": True, "validate": validate.Range(min=0, max=2 ** 31 - 1)}


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class Typed(ma.fields.String):
    """Text as the forms keep it: without control characters, lone surrogates or non-characters
    (crm.common.text.safe_text; a database refuses some of them), lines kept in `multiline`."""

    def __init__(self, *args, multiline=False, **kw):
        super().__init__(*args, **kw)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kw):
        return safe_text(super()._deserialize(value, attr, data, **kw), multiline=self.multiline)


def text(max_length: int, min_length: int = 0, multiline=False, **kw):
    return Typed(validate=validate.Length(min=min_length or None, max=max_length), multiline=multiline, **kw)


def long_text(max_length: int, min_length: int = 0, **kw):
    return text(max_length, min_length, multiline=True, **kw)


def one_of(choices, **kw):
    return ma.fields.String(validate=validate.OneOf(list(choices.keys()) if hasattr(choices, "keys") else list(choices)), **kw)


def an_id(**kw):
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kw)


def query_id(**kw):
    """An id in a query string (text there, so not `strict` as in a JSON body)."""
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


class Unit(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class Person(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class PageArgs(Strict):
    cursor = ma.fields.String(validate=validate.Length(max=200),
                              metadata={"description": "上一页返回的 next_cursor；第一页不填"})
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                              metadata={"description": "每页条数，1–200"})


def page_of(item_schema, name: str):
    """The envelope of a list: {items, next_cursor}."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(allow_none=True, required=True,
                                        metadata={"description": "下一页的游标；没有更多时为 null"}),
    })


PAGE_MAX = MAX_PAGE


def flag(**kw):
    """A JSON true or false (not "yes", 1 or "on")."""
    return ma.fields.Boolean(truthy={True}, falsy={False}, **kw)


class UtcDateTime(ma.fields.DateTime):
    """A moment, stored as naive UTC, written as RFC 3339 with its offset (…+00:00)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)

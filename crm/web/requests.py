"""The request class: what no text holds is dropped from query strings and posted fields."""
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from crm.common.text import safe_text


class CleanRequest(Request):
    """Query strings and posted fields lose, at the door, what no text holds (control characters
    but tab and newline, lone surrogates, non-characters: crm.common.text.safe_text): PostgreSQL
    refuses a NUL outright, FTS5 ends a phrase at one, XML cannot carry them."""

    @cached_property
    def args(self):
        return _cleaned(super().args)

    @cached_property
    def form(self):
        return _cleaned(super().form)


def _cleaned(data):
    return ImmutableMultiDict([(safe_text(k), safe_text(v, multiline=True)) for k, v in data.items(multi=True)])

"""Integers from outside (URLs, query strings, posted fields) read in one way: what is not an
integer within range is no id (a 404, or a filter left out), never a number the database cannot
hold (ids are PostgreSQL `serial`, 32-bit; SQLite raised OverflowError past 64 bits → 500)."""
from werkzeug.routing import IntegerConverter

# What a PostgreSQL integer column holds (ids included): no id, count or number field takes more.
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
MAX_ID = INT_MAX
MAX_PAGE = 100_000


def to_int(value, lo: int = -MAX_ID, hi: int = MAX_ID) -> int | None:
    """`value` as an integer in [lo, hi], else None. Accepts ints and decimal digit strings
    (with a sign), nothing else: not "1e3", "1.0", "NaN" or 10,000 digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        body = text[1:] if text[:1] in "+-" else text
        if not body or len(body) > 19 or not body.isascii() or not body.isdigit():  # int() of 10k digits is slow
            return None
        number = int(text)
    return number if lo <= number <= hi else None


def to_id(value) -> int | None:
    """A record id: a positive integer the database can hold, else None."""
    return to_int(value, 1, MAX_ID)


def id_list(values) -> list[int]:
    """The ids among `values`, in order, each once (the rest left out)."""
    out = (to_id(v) for v in values or [])
    return list(dict.fromkeys(v for v in out if v is not None))


def arg_id(args, name: str) -> int | None:
    """An id from a query string: None when absent or not an id (the filter is then left out)."""
    return to_id(args.get(name)) if args.get(name) else None


def arg_page(args, name: str = "page") -> int:
    """A page number: 1 when absent or not a number, at most MAX_PAGE."""
    raw = str(args.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return MAX_PAGE if len(raw) > 6 else max(1, min(int(raw), MAX_PAGE))


def coerce_id(value):
    """SelectField(coerce=…) for a choice of records: a value that is no id becomes 0, which no
    choice has (the field then says it is not a valid choice)."""
    if value is None or value == "":
        return value
    number = to_id(value)
    return number if number is not None else 0


class IdConverter(IntegerConverter):
    """<int:…> in every route: only ids the database can hold match; anything else is a 404."""
    regex = r"\d{1,10}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

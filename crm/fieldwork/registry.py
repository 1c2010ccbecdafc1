"""The kinds of field-work record. Photos, history, the timeline and the ledgers look a record
up through here, so each of them is written once for all kinds."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Kind:
    key: str  # visit, meeting, training, activity, need, point
    label: str  # 走访记录 …
    model: type
    get_or_404: Callable  # (record_id, user) -> record, 404 when out of scope
    endpoint: str  # the record's page: url_for(endpoint, record_id=…)
    snapshot: Callable  # record -> {field label: shown value}, for the history
    # What the file's timeline shows of the kind: its label there, the (id, day, created_at) of
    # an enterprise's records, and the items of some of them, {id: {title, detail, who, endpoint,
    # args}}, as (ent, user, ids) -> dict.
    timeline_label: str = ""
    timeline_keys: Callable | None = None
    timeline_items: Callable | None = None
    # A kind that counts as contact with a file: (enterprise ids) -> [(enterprise id, latest day)].
    contact_days: Callable | None = None
    # The home page's latest work: (user, limit) -> [(day, label, title, endpoint, id)].
    recent: Callable | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.key] = kind
    return kind


def get(key: str) -> Kind:
    return KINDS[key]

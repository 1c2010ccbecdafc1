"""The kinds of field-work record. Photos, history, the timeline and the ledgers look a record
up through here, so each of them is written once for all kinds."""
from dataclasses import dataclass
from importlib import import_module
from typing import Callable


@dataclass(frozen=True)
class Kind:
    key: str  # visit, meeting, training, activity, need, point
    label: str  # 走访记录 …
    model: type
    get_or_404: Callable  # (record_id, user) -> record, 404 when out of scope
    endpoint: str  # the record's page: url_for(endpoint, record_id=…)
    snapshot: Callable  # record -> {field label: shown value}, for the history


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.key] = kind
    return kind


def get(key: str) -> Kind:
    _load()
    return KINDS[key]


def _load():
    """Import every feature that registers a kind (idempotent)."""
    if len(KINDS) >= 6:  # visit, meeting, point, training, activity, need
        return
    for feature in ("activities", "meetings", "needs", "trainings", "visits"):
        import_module(f"crm.{feature}.kind")

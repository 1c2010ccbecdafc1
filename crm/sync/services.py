"""A form key means one submission of one content.

Every form that creates a record carries a key (`form_key`). The first send with a key makes the
record and writes a FormSubmission with the fingerprint of what was sent, in the same
transaction. Afterwards:

- the same key with the same content is a re-send (a double tap, a send whose answer was lost, an
  outbox retry): it gets the record made the first time;
- the same key with other content is refused (KeyReused), never taken for a re-send: a new record
  typed into a form that kept an old key must not vanish into the old one.

The fingerprint is the SHA-256 of the normalised fields: every posted field except the transport
ones (CSRF token, the key itself, the location taken at save time, a duplicate-name confirmation,
the outbox's label), values trimmed, line ends unified, empty values dropped, several values of one
field sorted, the SHA-256 of each uploaded file, and where it was posted (the path and its query:
the same fields posted to another firm's form are other content). Internal callers that pass a bare key get the
fingerprint of the data they hand the service.
"""
import hashlib
import json
import re
import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Callable, NamedTuple

from peewee import IntegrityError

from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.sync.models import FormSubmission

FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Fields that carry the send, not the content.
TRANSPORT_FIELDS = frozenset({"csrf_token", "form_key", "version", "latitude", "longitude", "accuracy_m",
                              "confirm_duplicate"})
RECENT = timedelta(days=30)  # how far back the page may ask which of its keys were saved

MISSING_KEY = "表单缺少提交标识，请刷新页面后重试"
REUSED = ("这份表单的提交标识已经用于另一份内容，服务器没有把这次的内容当作重复提交，也没有保存。"
          "您填写的内容都还在，已换上新的提交标识：请核对后再点一次“保存”。")


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


def valid_form_key(value) -> bool:
    return isinstance(value, str) and bool(FORM_KEY.match(value))


class Sent(NamedTuple):
    """What a creating form sent: its key and the fingerprint of its content."""
    key: str
    fingerprint: str


class KeyReused(ServiceError):
    """The key was saved before with other content (or by another user)."""

    def __init__(self, submission: FormSubmission, same_user: bool):
        super().__init__(REUSED, None)
        self.submission = submission if same_user else None


def _text(value) -> str:
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def fingerprint_fields(fields, files=(), where: str = "") -> str:
    """fields: (name, value) pairs, several per name allowed; files: (name, bytes digest) pairs;
    where: the form's address."""
    content: dict[str, list[str]] = {}
    for name, value in fields:
        if name in TRANSPORT_FIELDS or name.startswith("_"):
            continue
        text = _text(value)
        if text:
            content.setdefault(name, []).append(text)
    for name in content:
        content[name].sort()
    uploads = sorted([name, digest] for name, digest in files)
    blob = json.dumps([where, content, uploads] if where else [content, uploads], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _plain(value):
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "id") and not isinstance(value, (str, int, float)):
        return value.id
    return value


def fingerprint_data(data) -> str:
    """The fingerprint of what an internal caller hands a service (a dict of parsed values)."""
    pairs = []

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(prefix, v)
        elif value is not None:
            pairs.append((prefix, str(_plain(value))))
    walk("", data)
    return fingerprint_fields(pairs)


def from_request(request, key: str) -> Sent:
    """The Sent of a posted form: its fields and the digest of every uploaded file (the streams are
    rewound for whoever reads them next)."""
    files = []
    for name, storage in request.files.items(multi=True):
        if storage is None or not storage.filename:
            continue
        digest = hashlib.sha256()
        while chunk := storage.stream.read(1024 * 1024):
            digest.update(chunk)
        storage.stream.seek(0)
        files.append((name, digest.hexdigest()))
    query = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    return Sent(key, fingerprint_fields(request.form.items(multi=True), files, f"{request.path}?{query}"))


def as_sent(sent, data=None) -> Sent:
    """A Sent, or a bare key from an internal caller (fingerprinted by the data it passes)."""
    if isinstance(sent, Sent):
        return sent
    return Sent(sent, fingerprint_data(data if data is not None else {}))


def prior(sent: Sent, user) -> FormSubmission | None:
    """The earlier submission of this content under this key, None when the key is new. Raises
    KeyReused when the key was saved with other content or by someone else."""
    if not valid_form_key(sent.key):
        raise ServiceError(MISSING_KEY, "form_key")
    found = FormSubmission.get_or_none(FormSubmission.key == sent.key)
    if found is None:
        return None
    same_user = user is None or found.user_id == getattr(user, "id", None)
    if not same_user:
        raise KeyReused(found, False)
    if found.fingerprint and found.fingerprint != sent.fingerprint:
        raise KeyReused(found, True)
    return found


def once(kind: str, sent: Sent, user, build: Callable, load: Callable):
    """Run `build()` (which makes the record and all that goes with it) in one transaction with the
    submission's row, unless this key was saved. Returns (result, created): build's result, or
    `load(submission)` for a re-send. A race between two sends of one key is decided by the unique
    key: the loser's transaction is rolled back whole and it gets the winner's record."""
    found = prior(sent, user)
    if found is not None:
        return load(found), False
    try:
        with db.atomic():
            result = build()
            first = result[0] if isinstance(result, (list, tuple)) else result
            FormSubmission.create(key=sent.key, kind=kind, fingerprint=sent.fingerprint,
                                  user=getattr(user, "id", None), record_id=first.id, created_at=utcnow())
    except (IntegrityError, ServiceError):
        # The other send of this key may have committed while this one was built: its save made
        # this one's checks fail (the stage has moved, the credit code is taken) or its row broke
        # the unique key. Either way that send is the answer.
        found = prior(sent, user)
        if found is None:
            raise
        return load(found), False
    return result, True


def once_or_plain(kind: str, sent: Sent | None, user, build: Callable, load: Callable):
    """once() for a form that sent a key (the result alone); for an internal caller with none,
    build() in a transaction of its own."""
    if sent is None:
        with db.atomic():
            return build()
    return once(kind, sent, user, build, load)[0]


def saved_keys(user, keys) -> dict[str, FormSubmission]:
    """Which of these keys this user saved lately: {key: submission}."""
    keys = [k for k in dict.fromkeys(keys) if valid_form_key(k)][:100]
    if not keys or user is None:
        return {}
    rows = FormSubmission.select().where(FormSubmission.key.in_(keys), FormSubmission.user == user.id,
                                         FormSubmission.created_at >= utcnow() - RECENT)
    return {row.key: row for row in rows}

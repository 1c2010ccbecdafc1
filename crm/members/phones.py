"""A worker's phone number: checked, normalised, and kept so that a copy of the database alone
does not reveal it.

- `secret`: the number encrypted (Fernet: AES-128-CBC with an HMAC-SHA256 tag) with a key derived
  from the data key;
- `key`: HMAC-SHA256 of the number with another derived key, unique per member: the same phone is
  the same person across the district, found without decrypting anything;
- `mask`: 138****5678, what lists, exports and pages show.

The data key is CRM_DATA_KEY, or a random key generated once into `data_key` in the instance
folder. It is not in the database or its backups: without it the numbers cannot be read (nor new
sign-ups be matched with old ones), so it is kept apart and backed up on its own.
"""
import base64
import hashlib
import hmac
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from crm.members.models import Member

_MOBILE = re.compile(r"1[3-9]\d{9}")
_KEYS: dict[str, tuple[Fernet, bytes]] = {}


def normalise(value) -> str | None:
    """The 11-digit mainland mobile number typed (full-width digits, spaces, dashes and a leading
    +86 allowed), or None when it is not one."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def mask(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}"


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"crm-member-phone", info=purpose).derive(master)


def _keys() -> tuple[Fernet, bytes]:
    master = current_app.config["DATA_KEY"]
    if master not in _KEYS:
        raw = master.encode()
        _KEYS[master] = (Fernet(base64.urlsafe_b64encode(_derive(raw, b"encrypt"))), _derive(raw, b"match"))
    return _KEYS[master]


def match_key(number: str) -> str:
    return hmac.new(_keys()[1], number.encode(), hashlib.sha256).hexdigest()


def encrypt(number: str) -> str:
    return _keys()[0].encrypt(number.encode()).decode()


def decrypt(secret: str) -> str | None:
    """The number, or None when it was erased or the data key is not the one it was stored with."""
    if not secret:
        return None
    try:
        return _keys()[0].decrypt(secret.encode()).decode()
    except InvalidToken:
        return None


def protect(number: str) -> dict:
    """The stored columns of a normalised number."""
    return {"phone_secret": encrypt(number), "phone_key": match_key(number), "phone_mask": mask(number)}


def key_matches() -> bool | None:
    """Whether the data key reads the phones stored (None: no phone stored yet)."""
    secret = (Member.select(Member.phone_secret).where(Member.phone_secret != "").order_by(Member.id)
              .limit(1).scalar())
    return None if secret is None else decrypt(secret) is not None

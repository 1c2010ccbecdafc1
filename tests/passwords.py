"""The tests' password and its production-strength hash."""
from werkzeug.security import generate_password_hash

from config import TestConfig

PASSWORD = "Tablet-Visit-2026"
_HASHES = {}


def hashed(password=PASSWORD):
    """Production-strength hash (scrypt N=2^17), computed once per password per run."""
    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password, method=TestConfig.PASSWORD_HASH_METHOD)
    return _HASHES[password]

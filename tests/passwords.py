"""The tests' password and its hash (TestConfig's method)."""
from werkzeug.security import generate_password_hash

from config import TestConfig

PASSWORD = "Tablet-Visit-2026"
_HASHES = {}


def hashed(password=PASSWORD):
    """The hash of `password` by TestConfig's method, computed once per password per run."""
    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password, method=TestConfig.PASSWORD_HASH_METHOD)
    return _HASHES[password]

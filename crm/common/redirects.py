"""Where a form may send the user back to: a path on this site, nothing else."""
from urllib.parse import urlsplit


def safe_next(target, fallback: str) -> str:
    """`target` when it is a local path ("/…"), else `fallback`. Refuses "//host", "/\\host",
    control characters and whitespace (browsers drop a tab in "/\\t/host" and go to "//host")."""
    if not target or not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(ch in target for ch in "\\ ") or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target

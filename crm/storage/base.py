"""The storage interface (Storage), its keys and its errors; the backends: crm.storage.local,
crm.storage.s3; the app's storage: crm.storage."""
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1024 * 1024
SCRATCH_PREFIX = "crm-scratch-"
# A scratch file or a local copy untouched this long is a leftover: no job runs for a day (the
# longest lease is hours), and a copy in use is touched each time it is asked for.
LEFTOVER_SECONDS = 24 * 3600
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}"
KEY_RE = re.compile(rf"{_SEGMENT}(/{_SEGMENT}){{0,15}}")
MAXKEY_RE = 512


class BadKey(ValueError):
    """A key that could name something outside the storage (or is not a key at all)."""


class NotFound(FileNotFoundError):
    """No file under that key."""


def validate_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAXKEY_RE or not KEY_RE.fullmatch(key):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """"" (everything) or a key, optionally ending with "/" (a folder)."""
    if prefix:
        validate_key(prefix.removesuffix("/"))
    return prefix


class Storage:
    """The interface. Keys are validated by every method."""

    #: the folder the keys live in when the backend is a directory (backups refuse to go inside it)
    local_root: Path | None = None

    def put(self, key: str, data: bytes | BinaryIO) -> int:
        """Store bytes or a readable binary stream (read a chunk at a time) under key, replacing
        what was there, atomically. Returns the size."""
        raise NotImplementedError

    def put_file(self, key: str, path, move: bool = False) -> int:
        """Store a local file under key (with move=True the local file is gone afterwards)."""
        with open(path, "rb") as fh:
            size = self.put(key, fh)
        if move:
            os.unlink(path)
        return size

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the file (close it); NotFound when absent."""
        raise NotImplementedError

    def read(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def size(self, key: str) -> int | None:
        """The file's size in bytes, None when absent."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        """Delete the file; nothing happens when it is absent."""
        raise NotImplementedError

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with prefix, in order (the backup copies them)."""
        raise NotImplementedError

    def check(self) -> str | None:
        """Readiness: None when a file can be written and deleted now, else a short reason in
        Chinese (no path, no secret)."""
        raise NotImplementedError

    def local_path(self, key: str) -> Path:
        """A file on this machine with the key's bytes, for a library that reads a path (an
        import's workbook): a directory's own file; another backend's copy, downloaded once into
        the temp folder (a file under a key is written once, never changed). NotFound when absent."""
        target = _copies() / validate_key(key).replace("/", "__")
        if target.is_file():
            os.utime(target)  # in use: not a leftover (sweep_leftovers)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, part = tempfile.mkstemp(prefix=".part-", dir=target.parent)
            try:
                with self.open(key) as src, os.fdopen(fd, "wb") as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
                os.replace(part, target)
            except BaseException:
                Path(part).unlink(missing_ok=True)
                raise
        return target

    def scratch(self, suffix: str = "") -> str:
        """A new empty local file to write something large into, then put_file(key, path,
        move=True): on a directory it is on the same disk, so the move is a rename."""
        fd, path = tempfile.mkstemp(prefix=SCRATCH_PREFIX, suffix=suffix)
        os.close(fd)
        return path

    def leftovers(self) -> Iterator[Path]:
        """The files on this machine the storage made for a while: scratch files (a job killed
        before it handed its result over leaves one) and copies made by local_path."""
        yield from Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*")
        yield from _copies().glob("*")

    def sweep_leftovers(self, older_than: float = LEFTOVER_SECONDS, now: float | None = None) -> int:
        """Delete the leftovers not changed (or, for a copy, used) for `older_than` seconds; how
        many. A copy deleted is downloaded again when next asked for."""
        cutoff = (time.time() if now is None else now) - older_than
        deleted = 0
        for path in list(self.leftovers()):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue  # another worker's sweep was first
        return deleted

    def response(self, key: str, *, mimetype: str, max_age: int, as_attachment: bool = False,
                 download_name: str | None = None):
        """A Flask response streaming the file (conditional: ETag, Last-Modified, Range), or None
        when absent."""
        raise NotImplementedError


def _copies() -> Path:
    """Where local_path keeps its copies of another backend's files."""
    return Path(tempfile.gettempdir()) / "crm-storage-copies"

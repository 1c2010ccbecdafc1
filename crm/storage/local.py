"""LocalStorage: the files in a directory (one shared folder for several servers: NFS …)."""
import os
import shutil
import tempfile
from pathlib import Path

from flask import send_file

from crm.storage.base import KEY_RE, CHUNK, NotFound, Storage, validate_key, validate_prefix


class LocalStorage(Storage):
    """Files in a directory: `root/<key>`. Writes go to a temp file (`.tmp-…`, a name that is no
    key) in the target's folder, flushed to disk, then renamed over the target."""

    def __init__(self, root, create: bool = True):
        self.root = Path(root)
        self.local_root = self.root
        self.create = create  # False: the folder must exist (a shared mount)

    def __repr__(self):
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def local_path(self, key):
        target = self.path(key)
        if not target.is_file():
            raise NotFound(key)
        return target

    def _folder_for(self, target: Path) -> Path:
        if not self.root.is_dir():
            if not self.create:
                raise FileNotFoundError(f"the storage directory {self.root} does not exist")
            self.root.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.parent

    def put(self, key, data):
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self._folder_for(target))
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    fh.write(data)
                else:
                    shutil.copyfileobj(data, fh, CHUNK)
                fh.flush()
                os.fsync(fh.fileno())
                size = fh.tell()
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def put_file(self, key, path, move=False):
        if not move:
            return super().put_file(key, path)
        target = self.path(key)
        self._folder_for(target)
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.replace(path, target)
        except OSError:  # another disk (EXDEV): copied atomically, then removed
            return super().put_file(key, path, move=True)
        return target.stat().st_size

    def open(self, key):
        try:
            return open(self.path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(key) from None

    def size(self, key):
        path = self.path(key)
        try:
            return path.stat().st_size if path.is_file() else None
        except OSError:
            return None

    def delete(self, key):
        self.path(key).unlink(missing_ok=True)

    def keys(self, prefix=""):
        validate_prefix(prefix)
        # Walk only the folder the prefix names (its last part may be the start of a name).
        folder = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        if not folder.is_dir():
            return iter(())
        found = []
        for base, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(base, d)))
            rel = Path(base).relative_to(self.root).as_posix()
            for name in sorted(files):
                if name.startswith(".") or os.path.islink(os.path.join(base, name)):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and KEY_RE.fullmatch(key):
                    found.append(key)
        return iter(sorted(found))

    def check(self):
        folder = self.root
        if folder.exists() and not folder.is_dir():
            return "不是目录"
        if not folder.exists():
            if not self.create:
                return "目录不存在（共享目录未挂载？）"
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                return "目录不存在且无法创建"
        try:
            fd, name = tempfile.mkstemp(prefix=".readyz-", dir=folder)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError:
            return "不可写"
        return None

    def scratch(self, suffix=""):
        folder = self.root / ".scratch"  # a dot folder: no key, not in keys(), not backed up
        self._folder_for(folder / "x")
        fd, path = tempfile.mkstemp(prefix="part-", suffix=suffix, dir=folder)
        os.close(fd)
        return path

    def leftovers(self):
        yield from super().leftovers()
        yield from (self.root / ".scratch").glob("part-*")

    def response(self, key, *, mimetype, max_age, as_attachment=False, download_name=None):
        path = self.path(key)
        if not path.is_file():
            return None
        return send_file(path, mimetype=mimetype, conditional=True, max_age=max_age,
                         as_attachment=as_attachment, download_name=download_name)

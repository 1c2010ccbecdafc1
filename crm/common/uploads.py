"""Reading an uploaded file with a size limit."""


def read_limited(storage, max_bytes: int) -> tuple[bytes | None, int]:
    """(the file's bytes, its size), or (None, its size) when it is larger than `max_bytes`: the
    rest is counted a megabyte at a time, never held."""
    data = storage.stream.read(max_bytes + 1)
    if len(data) <= max_bytes:
        return data, len(data)
    size = len(data)
    while chunk := storage.stream.read(1024 * 1024):
        size += len(chunk)
    return None, size

"""Photos: checked by content (JPEG/PNG/WebP, ≤ 10 MB), re-encoded with the EXIF orientation
applied and every metadata block (GPS included) dropped, thumbnailed, stored in the app's storage (crm.storage) under random names: key `ab/<name>.jpg`
and its thumbnail `ab/<name>_t.jpg` (ab: the name's first two characters).

A photo is uploaded with its form and stays *pending* (tied to the form's key and its
uploader) until the record is saved, so a form sent back for a mistake keeps its photos.
"""
import hashlib
import secrets
import threading
import warnings
from io import BytesIO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from crm import storage as filestore
from crm.common.errors import ServiceError
from crm.common.uploads import read_limited
from crm.common.text import safe_text
from crm.db import db
from crm.fieldwork import registry
from crm.fieldwork.models import RecordChange
from crm.photos.models import Photo

MAX_BYTES = 10 * 1024 * 1024
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: a phone camera's multi-picture JPEG
MAX_FILES = 10  # per submission
MAX_SIDE = 2560  # plenty for a record; a 12-megapixel tablet photo becomes ~1 MB
THUMB_SIDE = 400
# Decoding is bounded. A JPEG is decoded at a reduced scale (draft: 1/2, 1/4 or 1/8 of each side)
# straight to what is kept, so a 50-megapixel phone photo costs tens of MB, not hundreds; PNG and
# WebP have no reduced decoding, so they take fewer pixels (RGBA at the cap is 64 MB). And a
# worker decodes one photo at a time (PHOTO_DECODES), so a burst of uploads queues instead of
# adding up. tests/test_photo_memory.py measures it.
MAX_PIXELS_JPEG = 80_000_000  # under Pillow's own bomb warning (89 MP)
MAX_PIXELS_OTHER = 16_000_000
_DECODES = {}


def _return_large_blocks():
    """Pillow keeps an image in blocks of megabytes. glibc serves such blocks from the heap of the
    thread that asked once its mmap threshold has risen (it rises after every large free), and a
    heap keeps what is freed: the threads of a gthread worker each kept a decode's worth. A fixed
    threshold makes every large block its own mapping, given back to the system when freed."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 4 * 1024 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: its allocator decides


_return_large_blocks()


def key_of(photo: Photo, thumb=False) -> str:
    """The photo's (or its thumbnail's) key in the storage."""
    return _key(photo.stored_name, thumb)


def _key(name: str, thumb=False) -> str:
    return f"{name[:2]}/{name}_t.jpg" if thumb else f"{name[:2]}/{name}.jpg"


def _display_name(filename: str) -> str:
    name = safe_text((filename or "").replace("\\", "/").rsplit("/", 1)[-1], multiline=False).strip()
    return name[:100] or "照片"


def _encode(image: Image.Image, side: int) -> bytes:
    if max(image.size) > side:  # the decoded picture is already at the kept size: no copy for it
        image = image.copy()
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    return out.getvalue()


def _decode_slot():
    """The worker's semaphore for decoding (one per process; gunicorn's threads share it)."""
    limit = int(current_app.config.get("PHOTO_DECODES", 1)) if current_app else 1
    if limit not in _DECODES:
        _DECODES[limit] = threading.BoundedSemaphore(limit)
    return _DECODES[limit]


def _decoded(data: bytes, jpeg: bool) -> Image.Image:
    """The picture as RGB at the kept size, upright; each larger stage is freed as soon as the next
    one exists (docs/performance.md has the measured peaks)."""
    source = Image.open(BytesIO(data))
    if jpeg:
        source.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at the smallest scale still ≥ kept
    source.load()
    alpha = source.mode in ("RGBA", "LA", "PA") or (source.mode == "P" and "transparency" in source.info)
    image = source if source.mode == "RGB" else source.convert("RGBA" if alpha else "RGB")
    if image is not source:
        source.close()
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if alpha:
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.split()[-1])
        flat.info = image.info
        image.close()
        image = flat
    upright = ImageOps.exif_transpose(image)  # on the kept size: a cheap copy
    if upright is not image:
        image.close()
    return upright


def process(data: bytes, filename: str):
    """(full JPEG bytes, thumbnail bytes, width, height) or ServiceError with a clear message."""
    name = _display_name(filename)
    if not data:
        raise ServiceError(f"“{name}”是空文件", "photos")
    if len(data) > MAX_BYTES:
        mb = len(data) / 1024 / 1024
        raise ServiceError(f"“{name}”有 {mb:.1f} MB，超过 10 MB 的上限，请换一张或压缩后再上传", "photos")
    bad = ServiceError(f"“{name}”不是可用的图片：只能上传 JPEG、PNG 或 WebP 格式的照片", "photos")
    too_big = ServiceError(f"“{name}”的像素太多，无法处理：JPEG 最多 8000 万像素，PNG、WebP 最多 1600 万像素，"
                           "请缩小后再上传", "photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise bad
                jpeg = probe.format in ("JPEG", "MPO")
                if probe.width * probe.height > (MAX_PIXELS_JPEG if jpeg else MAX_PIXELS_OTHER):
                    raise too_big
                probe.verify()
            with _decode_slot():
                image = _decoded(data, jpeg)
                try:
                    full = _encode(image, MAX_SIDE)
                    thumb = _encode(image, THUMB_SIDE)
                    width, height = image.size
                finally:
                    image.close()
    except ServiceError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise bad
    return full, thumb, width, height


def stage(files, form_key: str, user):
    """Store the uploaded files as pending photos of this form. Returns the list of messages for
    the files refused; the good ones are kept either way."""
    errors = []
    files = [f for f in files if f is not None and f.filename]
    if len(files) > MAX_FILES:
        return [f"一次最多上传 {MAX_FILES} 张照片（这次选了 {len(files)} 张），请分几次保存"]
    for storage in files:
        data, size = read_limited(storage, MAX_BYTES)
        if data is None:
            errors.append(f"“{_display_name(storage.filename)}”有 {size / 1024 / 1024:.1f} MB，"
                          "超过 10 MB 的上限，请换一张或压缩后再上传")
            continue
        try:
            full, thumb, width, height = process(data, storage.filename)
        except ServiceError as exc:
            errors.append(str(exc))
            continue
        name = secrets.token_hex(16)
        kept = filestore.current()
        kept.put(_key(name), full)
        kept.put(_key(name, thumb=True), thumb)
        Photo.create(form_key=form_key, stored_name=name, original_name=_display_name(storage.filename),
                     sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), width=width,
                     height=height, uploaded_by=user)
    return errors


def pending(form_key: str, user):
    if not form_key:
        return []
    return list(Photo.select().where(Photo.form_key == form_key, Photo.kind.is_null(),
                                     Photo.uploaded_by == user, Photo.archived == False)  # noqa: E712
                .order_by(Photo.id))


def attach(kind: str, record_id: int, form_key: str, user) -> int:
    """Give the form's pending photos to the saved record (inside its transaction). The same
    picture sent twice (a re-sent form) is attached once."""
    have = {p.sha256 for p in Photo.select(Photo.sha256).where(Photo.kind == kind, Photo.record_id == record_id)}
    attached = 0
    for photo in pending(form_key, user):
        if photo.sha256 in have:
            Photo.update(archived=True).where(Photo.id == photo.id).execute()
            continue
        have.add(photo.sha256)
        Photo.update(kind=kind, record_id=record_id).where(Photo.id == photo.id).execute()
        attached += 1
    return attached


def of(kind: str, record_id: int):
    return list(Photo.select().where(Photo.kind == kind, Photo.record_id == record_id,
                                     Photo.archived == False).order_by(Photo.id))  # noqa: E712


def of_many(kind: str, record_ids) -> dict:
    out = {}
    ids = list(record_ids)
    if not ids:
        return out
    for p in (Photo.select().where(Photo.kind == kind, Photo.record_id.in_(ids),
                                   Photo.archived == False).order_by(Photo.id)):  # noqa: E712
        out.setdefault(p.record_id, []).append(p)
    return out


def remove(photo: Photo, user):
    """Photos are archived, not deleted: the file stays for the record's history."""
    with db.atomic():
        Photo.update(archived=True).where(Photo.id == photo.id).execute()
        if photo.kind:
            version = registry.get(photo.kind).model.get_by_id(photo.record_id).version
            RecordChange.create(kind=photo.kind, record_id=photo.record_id, user=user, version=version,
                                field="照片", old_value=photo.original_name, new_value="（已移除）")

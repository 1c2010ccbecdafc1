"""Photos: checked by content (JPEG/PNG/WebP, ≤ 10 MB), re-encoded with the EXIF orientation
applied and every metadata block (GPS included) dropped, thumbnailed, stored under
CRM_UPLOAD_DIR with random names.

A photo is uploaded with its form and stays *pending* (tied to the form's key and its
uploader) until the record is saved, so a form sent back for a mistake keeps its photos.
"""
import hashlib
import secrets
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from crm.common.errors import ServiceError
from crm.photos.models import Photo

MAX_BYTES = 10 * 1024 * 1024
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: a phone camera's multi-picture JPEG
MAX_FILES = 10  # per submission
MAX_SIDE = 2560  # plenty for a record; a 12-megapixel tablet photo becomes ~1 MB
THUMB_SIDE = 400
MAX_PIXELS = 40_000_000  # refuse decompression bombs


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_of(photo: Photo, thumb=False) -> Path:
    name = photo.stored_name
    return upload_dir() / name[:2] / (f"{name}_t.jpg" if thumb else f"{name}.jpg")


def _display_name(filename: str) -> str:
    return (filename or "照片").replace("\\", "/").rsplit("/", 1)[-1][:100]


def _encode(image: Image.Image, side: int) -> bytes:
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing carried over
    return out.getvalue()


def process(data: bytes, filename: str):
    """(full JPEG bytes, thumbnail bytes, width, height) or ServiceError with a clear message."""
    name = _display_name(filename)
    if not data:
        raise ServiceError(f"“{name}”是空文件", "photos")
    if len(data) > MAX_BYTES:
        mb = len(data) / 1024 / 1024
        raise ServiceError(f"“{name}”有 {mb:.1f} MB，超过 10 MB 的上限，请换一张或压缩后再上传", "photos")
    bad = ServiceError(f"“{name}”不是可用的图片：只能上传 JPEG、PNG 或 WebP 格式的照片", "photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                if probe.format not in FORMATS:
                    raise bad
                if probe.width * probe.height > MAX_PIXELS:
                    raise ServiceError(f"“{name}”的像素太多，无法处理", "photos")
                probe.verify()
            with Image.open(BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode in ("RGBA", "LA", "P"):
                    image = image.convert("RGBA")
                    flat = Image.new("RGB", image.size, (255, 255, 255))
                    flat.paste(image, mask=image.split()[-1])
                    image = flat
                elif image.mode != "RGB":
                    image = image.convert("RGB")
                full = _encode(image, MAX_SIDE)
                thumb = _encode(image, THUMB_SIDE)
                width, height = Image.open(BytesIO(full)).size
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
        data = storage.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            size = len(data)
            while chunk := storage.stream.read(1024 * 1024):  # count the rest without holding it
                size += len(chunk)
            errors.append(f"“{_display_name(storage.filename)}”有 {size / 1024 / 1024:.1f} MB，"
                          "超过 10 MB 的上限，请换一张或压缩后再上传")
            continue
        try:
            full, thumb, width, height = process(data, storage.filename)
        except ServiceError as exc:
            errors.append(str(exc))
            continue
        name = secrets.token_hex(16)
        folder = upload_dir() / name[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.jpg").write_bytes(full)
        (folder / f"{name}_t.jpg").write_bytes(thumb)
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
    from crm.db import db
    from crm.fieldwork.models import RecordChange
    with db.atomic():
        Photo.update(archived=True).where(Photo.id == photo.id).execute()
        if photo.kind:
            from crm.fieldwork import registry
            version = registry.get(photo.kind).model.get_by_id(photo.record_id).version
            RecordChange.create(kind=photo.kind, record_id=photo.record_id, user=user, version=version,
                                field="照片", old_value=photo.original_name, new_value="（已移除）")

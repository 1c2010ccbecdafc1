"""Every file the app keeps — photos, founding documents, job results — behind one interface,
so that several app servers (and `crm worker`) share them.

A file is named by a key: segments of letters, digits, `_`, `-` and `.` joined by `/`, none
starting with a dot (no `..`, no absolute path, no backslash): `ab/ab12….jpg` (a photo),
`founding/ab/ab12….pdf` (a document), `job_results/ab12….xlsx` (a job's result). A key that is
not of that form is refused (BadKey) before anything touches a disk or a bucket.

The backend follows the configuration (from_config):
- a directory (LocalStorage), CRM_STORAGE_DIR: one shared folder (NFS …) mounted on every server.
  It must exist: an unmounted share is not silently replaced by an empty local folder. Without
  CRM_STORAGE_DIR the folder is CRM_UPLOAD_DIR (default instance/uploads), made when missing, as
  before: photos and documents stay where they were.
- S3-compatible object storage (S3Storage, crm.storage.s3), CRM_STORAGE_URL=s3://bucket/prefix.

A write is whole or absent: LocalStorage writes a temp file in the target's folder and renames
it; an S3 PUT is atomic. current() is the app's storage (one per configuration, reused);
send() answers a request with a file, streamed, with the headers send_file gives."""
import secrets

from flask import current_app

from crm.storage.base import CHUNK, BadKey, NotFound, Storage, validate_key, validate_prefix
from crm.storage.local import LocalStorage
from crm.storage.s3 import S3Storage, parse_url

__all__ = ["CHUNK", "BadKey", "LocalStorage", "NotFound", "S3Storage", "Storage", "current", "from_config", "init_app", "of_app",
           "send",
           "validate_key", "validate_prefix"]


# ---- the app's storage ---------------------------------------------------------------------------

def _settings(config) -> tuple:
    return tuple(config.get(name) or "" for name in
                 ("STORAGE_URL", "STORAGE_DIR", "UPLOAD_DIR", "S3_ENDPOINT_URL", "S3_REGION", "S3_ADDRESSING"))


def from_config(config) -> Storage:
    """The backend the configuration names: CRM_STORAGE_URL (s3://), else CRM_STORAGE_DIR (must
    exist), else CRM_UPLOAD_DIR (made when missing)."""
    url, shared, uploads, endpoint, region, addressing = _settings(config)
    if url:
        bucket, prefix = parse_url(url)
        return S3Storage(bucket, prefix, endpoint_url=endpoint or None, region=region or None,
                         addressing=addressing or None)
    if shared:
        return LocalStorage(shared, create=False)
    return LocalStorage(uploads or "instance/uploads", create=True)


def of_app(app) -> Storage:
    """The app's storage, made once per configuration (a test that changes the configuration
    gets the new one)."""
    settings = _settings(app.config)
    held = app.extensions.get("storage")
    if held is None or held[0] != settings:
        held = (settings, from_config(app.config))
        app.extensions["storage"] = held
    return held[1]


def current() -> Storage:
    return of_app(current_app)


def init_app(app):
    """Made when the app is: a wrong CRM_STORAGE_URL (or S3 without boto3) stops the start."""
    of_app(app)


def send(key: str, **kwargs):
    """current().response(key, ...): the file streamed, or None when absent."""
    return current().response(key, **kwargs)


def new_name(suffix: str = "") -> str:
    """A random file name (32 hex digits) with the suffix, e.g. for a job's result."""
    return f"{secrets.token_hex(16)}{suffix}"

"""Configuration from CRM_* environment variables, with safe defaults for a laptop.

CRM_DATABASE_URL   sqlite:///path/crm.db (default: instance/crm.db) or postgresql://user@host/db
CRM_SECRET_KEY     session signing key; required to be shared when several app servers run.
                   Without it a random key is generated once into instance/secret_key.
CRM_INSTANCE_DIR   where the SQLite file, the generated key and uploads live (default ./instance)
CRM_STORAGE_DIR    one directory for every file the app keeps (photos, founding documents, job
                   results), shared by several app servers (NFS …); it must exist. Default:
                   CRM_UPLOAD_DIR
CRM_UPLOAD_DIR     that directory when CRM_STORAGE_DIR is not set, made when missing (default
                   instance/uploads)
CRM_STORAGE_URL    s3://bucket/prefix: the files in S3-compatible object storage instead (the `s3`
                   extra, boto3); CRM_S3_ENDPOINT_URL (MinIO, another provider), CRM_S3_REGION,
                   CRM_S3_ADDRESSING (path or virtual); credentials from AWS_ACCESS_KEY_ID /
                   AWS_SECRET_ACCESS_KEY (or boto3's other usual places)
CRM_HTTPS=1        mark cookies Secure (set it when served over HTTPS)
CRM_SESSION_HOURS  absolute session lifetime, default 12
CRM_DATA_KEY       encrypts members' phone numbers (default: generated once into instance/data_key);
                   keep it apart from the database's backups, and the same on every app server.
CRM_WEBHOOK_ALLOW_LOOPBACK=1 webhook addresses may be http://127.0.0.1, http://localhost or
                   http://[::1] (a receiver on this machine); default off: https:// only
CRM_API_RATE_LIMIT requests per API token, default 120/minute (flask-limiter's notation)
CRM_API_RATE_STORAGE where the API's rate counts live: redis://host:6379/N (default: CRM_REDIS_URL when
                   set, so every app server counts together) or memory:// (each process its own)
CRM_REDIS_URL      redis://127.0.0.1:6379/0: the job queue (后台任务) in Redis, shared by every app server
                   and `crm worker`; default: a SQLite file of its own, CRM_JOBS_DB
CRM_JOBS_DB        the queue's SQLite file without Redis (default instance/jobs.db)
CRM_JOBS_KEEP_HOURS how long a job's result can be downloaded, default 24 (then it is deleted)
CRM_EXPORT_INLINE_ROWS an export of more rows than this (default 3000) runs as a job; smaller ones
                   download at once
CRM_LOG_JSON=1     log lines as JSON, one object a line (time, level, logger, message, request_id,
                   exception), the app's and gunicorn's in `crm serve`; default: text lines
"""
import os
import secrets
from datetime import timedelta
from pathlib import Path

from crm import resources


# Secrets that must never run a real deployment (`crm serve` refuses them).
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test", "development",
                "test-secret-key-not-for-production"}


def _bool(value):
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def instance_secret(instance_dir: Path, name: str = "secret_key") -> str:
    """A random key kept in instance/<name>, made on first use (mode 0600)."""
    path = Path(instance_dir) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    # Passwords: Werkzeug scrypt, N = 2^17 (OWASP ASVS 5 floor).
    PASSWORD_HASH_METHOD = "scrypt:131072:8:1"
    PASSWORD_MIN_LENGTH = 10
    LOGIN_MAX_FAILURES = 5  # per user and client address
    LOGIN_MAX_FAILURES_USER = 20  # per user, from any address
    LOGIN_MAX_FAILURES_ADDRESS = 50  # per client address, for any user names
    LOGIN_LOCKOUT = timedelta(minutes=15)  # also the window the failures are counted in

    SESSION_COOKIE_NAME = "crm_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(0)
    WTF_I18N_ENABLED = False  # WTForms uses its own zh translations (BaseForm.Meta.locales)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session (a tablet form may stay open)
    PAGE_SIZE = 50
    LIST_COUNT_CAP = 10_000
    TIMEZONE = "Asia/Shanghai"
    TESTING = False
    ENV = "production"
    # Sign-ups by QR code: per client address in a window, and at most so many per meeting unless
    # an admin sets the meeting's own cap; an outreach point's link lasts so many days.
    SIGNUP_PER_ADDRESS = 30
    SIGNUP_WINDOW = timedelta(minutes=10)
    SIGNUP_CAP = 500
    POINT_LINK_DAYS = 30
    # Webhooks (sent by `crm worker`): http:// to this machine refused.
    WEBHOOK_ALLOW_LOOPBACK = False
    LOG_JSON = False  # log lines as text (with the request id); True: one JSON object a line
    # Jobs: the queue's name (its keys in Redis), what a result is kept for, which exports are jobs.
    JOBS_QUEUE_NAME = "crm"
    JOBS_KEEP_HOURS = 24
    EXPORT_INLINE_ROWS = 3000

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.INSTANCE_DIR = Path(env.get("CRM_INSTANCE_DIR") or resources.INSTANCE_DIR)
        self.DATABASE_URL = env.get("CRM_DATABASE_URL") or f"sqlite:///{self.INSTANCE_DIR / 'crm.db'}"
        self.UPLOAD_DIR = env.get("CRM_UPLOAD_DIR") or str(self.INSTANCE_DIR / "uploads")
        # Where the files are (crm.storage): object storage, a shared directory, else UPLOAD_DIR.
        self.STORAGE_URL = env.get("CRM_STORAGE_URL") or ""
        self.STORAGE_DIR = env.get("CRM_STORAGE_DIR") or ""
        self.S3_ENDPOINT_URL = env.get("CRM_S3_ENDPOINT_URL") or ""
        self.S3_REGION = env.get("CRM_S3_REGION") or ""
        self.S3_ADDRESSING = env.get("CRM_S3_ADDRESSING") or ""
        self.ENV = env.get("CRM_ENV", self.ENV)
        self.SESSION_COOKIE_SECURE = _bool(env.get("CRM_HTTPS"))
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=int(env.get("CRM_SESSION_HOURS") or 12))
        self.MAX_CONTENT_LENGTH = int(env.get("CRM_MAX_CONTENT_LENGTH") or 64 * 1024 * 1024)
        # Photos a worker process decodes at once (each holds up to ~200 MB while it runs).
        self.PHOTO_DECODES = max(1, int(env.get("CRM_PHOTO_DECODES") or 1))
        self.AUDIT_DAYS = max(1, int(env.get("CRM_AUDIT_DAYS") or 365))  # how long the audit log is kept
        # Reverse proxies in front that set X-Forwarded-For/-Proto (nginx: 1). 0 trusts no header.
        self.PROXIES = max(0, int(env.get("CRM_PROXIES") or 0))
        for name in ("WEBHOOK_ALLOW_LOOPBACK", "LOG_JSON"):
            if env.get(f"CRM_{name}") not in (None, ""):
                setattr(self, name, _bool(env.get(f"CRM_{name}")))
        self.SECRET_KEY = env.get("CRM_SECRET_KEY") or getattr(self, "SECRET_KEY", None) \
            or instance_secret(self.INSTANCE_DIR)
        self.REDIS_URL = env.get("CRM_REDIS_URL") or getattr(self, "REDIS_URL", None) or ""
        # Requests per token (or, without one, per client address) to /api/v1, and where the
        # counts are kept: in Redis when there is one (every app server counts together), else
        # memory:// (each server process counts its own).
        self.API_RATE_LIMIT = env.get("CRM_API_RATE_LIMIT") or getattr(self, "API_RATE_LIMIT", None) or "120/minute"
        self.API_RATE_STORAGE = env.get("CRM_API_RATE_STORAGE") or self.REDIS_URL or "memory://"
        self.JOBS_DB = env.get("CRM_JOBS_DB") or str(self.INSTANCE_DIR / "jobs.db")
        self.JOBS_KEEP_HOURS = float(env.get("CRM_JOBS_KEEP_HOURS") or self.JOBS_KEEP_HOURS)
        self.EXPORT_INLINE_ROWS = max(0, int(env.get("CRM_EXPORT_INLINE_ROWS") or self.EXPORT_INLINE_ROWS))
        self.DATA_KEY = env.get("CRM_DATA_KEY") or getattr(self, "DATA_KEY", None) \
            or instance_secret(self.INSTANCE_DIR, "data_key")

    def as_dict(self):
        return {k: getattr(self, k) for k in dir(self) if k.isupper()}


class TestConfig(Config):
    __test__ = False  # not a pytest test class
    TESTING = True
    ENV = "testing"
    # The same scrypt, at N = 2^10: the tests sign in and create users hundreds of times, and
    # each hash or check at production's N = 2^17 is a few tenths of a second of CPU.
    # Production's strength is checked in tests/test_auth.py.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    WEBHOOK_ALLOW_LOOPBACK = True  # a receiver on 127.0.0.1
    SECRET_KEY = "test-secret-key-not-for-production"
    DATA_KEY = "test-data-key-not-for-production"

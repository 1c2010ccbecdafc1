"""crm.storage: the same contract for a directory (LocalStorage) and for S3-compatible object
storage (S3Storage, against moto's S3 server on a free port of this machine); keys that could
leave the storage refused; atomic writes; several app servers sharing one storage (a photo and a
job's result made by one app, served by another with another instance folder); /readyz failing
when the storage cannot be written; a backup and restore through an S3 storage."""
import io
import json
import os
import shutil
import socket
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer
from werkzeug.datastructures import FileStorage

from config import TestConfig
from crm import create_app, schema, storage
from crm.db import bind, db
from crm.jobs import registry
from crm.jobs import services as jobs
from crm.jobs.models import Job
from crm.ops import backup
from crm.common.timeutil import utcnow
from crm.storage import BadKey, LocalStorage, NotFound, S3Storage
from tests.conftest import login_as
from tests.fieldwork_helpers import jpeg

REGION = "us-east-1"


# ---- an S3 server of our own ----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server (moto[server]) on 127.0.0.1, one per test process; fake credentials."""
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def new_bucket(endpoint) -> str:
    name = f"crm-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Storage(new_bucket(endpoint), "crm/", endpoint_url=endpoint, region=REGION)


# ---- the contract, on both backends ---------------------------------------------------------------

def test_put_open_size_exists_delete(store):
    assert store.put("ab/ab12.jpg", b"photo") == 5
    with store.open("ab/ab12.jpg") as fh:
        assert fh.read() == b"photo"
    assert store.size("ab/ab12.jpg") == 5 and store.exists("ab/ab12.jpg")
    big = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk, from a stream
    assert store.put("founding/cd/cd34.pdf", io.BytesIO(big)) == len(big)
    assert store.read("founding/cd/cd34.pdf") == big and store.size("founding/cd/cd34.pdf") == len(big)
    store.put("ab/ab12.jpg", b"again")  # a put replaces
    assert store.read("ab/ab12.jpg") == b"again"
    store.delete("ab/ab12.jpg")
    assert not store.exists("ab/ab12.jpg") and store.size("ab/ab12.jpg") is None
    with pytest.raises(NotFound):
        store.open("ab/ab12.jpg")
    with pytest.raises(FileNotFoundError):  # NotFound is one
        store.read("nothing/here.txt")
    store.delete("ab/ab12.jpg")  # deleting what is gone is no error


def test_keys_by_prefix_in_order(store):
    for key in ("job_results/x1.xlsx", "founding/cd/cd34.pdf", "ab/ab12_t.jpg", "ab/ab12.jpg", "ff/ff99.jpg"):
        store.put(key, b"x")
    assert list(store.keys()) == ["ab/ab12.jpg", "ab/ab12_t.jpg", "ff/ff99.jpg", "founding/cd/cd34.pdf",
                                  "job_results/x1.xlsx"]
    assert list(store.keys("founding/")) == ["founding/cd/cd34.pdf"]
    assert list(store.keys("job_results/")) == ["job_results/x1.xlsx"]
    assert list(store.keys("f")) == ["ff/ff99.jpg", "founding/cd/cd34.pdf"]
    assert list(store.keys("none/")) == []


BAD_KEYS = ["../escape.txt", "ab/../../escape.txt", "/etc/passwd", "ab/./x.jpg", "ab//x.jpg", "ab\\x.jpg",
            ".hidden", "ab/.tmp-x", "", "ab/", "a b.jpg", "ab/x.jpg\x00", "照片.jpg", "a" * 600, None]


@pytest.mark.parametrize("key", BAD_KEYS, ids=range(len(BAD_KEYS)))
def test_a_key_that_could_leave_the_storage_is_refused_by_every_method(store, key, tmp_path):
    for call in (lambda: store.put(key, b"x"), lambda: store.open(key), lambda: store.size(key),
                 lambda: store.exists(key), lambda: store.delete(key), lambda: store.read(key),
                 lambda: store.response(key, mimetype="text/plain", max_age=0)):
        with pytest.raises(BadKey):
            call()
    with pytest.raises(BadKey):
        list(store.keys("../"))
    assert not (tmp_path / "escape.txt").exists() and list(store.keys()) == []


def test_put_file_and_scratch(store):
    scratch = store.scratch(".xlsx")
    assert Path(scratch).is_file() and scratch.endswith(".xlsx")
    Path(scratch).write_bytes(b"workbook")
    assert store.put_file("job_results/r1.xlsx", scratch, move=True) == 8
    assert not Path(scratch).exists() and store.read("job_results/r1.xlsx") == b"workbook"
    assert list(store.keys()) == ["job_results/r1.xlsx"]  # a scratch file is no key
    other = store.scratch()
    Path(other).write_bytes(b"kept")
    store.put_file("job_results/r2", other)  # copied: the local file stays
    assert Path(other).read_bytes() == b"kept" and store.read("job_results/r2") == b"kept"
    os.unlink(other)


def test_leftovers_untouched_for_a_day_are_swept(store):
    """A scratch file a killed job left and a copy made for a library (local_path) are deleted
    once untouched for a day; a copy still asked for is kept, one deleted is made again; a
    stored file is never a leftover."""
    store.put("imports/a.xlsx", b"workbook")
    copy = store.local_path("imports/a.xlsx")
    old, fresh = store.scratch(".xlsx"), store.scratch(".xlsx")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    os.utime(copy, (day_ago, day_ago))
    assert store.local_path("imports/a.xlsx") == copy  # asked for again: in use
    assert store.sweep_leftovers() == 1
    assert not Path(old).exists() and Path(fresh).exists() and copy.exists()
    # Two days on, nothing touched: what the storage made on this machine goes, the file stays.
    store.sweep_leftovers(now=time.time() + 2 * 24 * 3600)
    assert not Path(fresh).exists()
    assert store.exists("imports/a.xlsx") and store.local_path("imports/a.xlsx").read_bytes() == b"workbook"


class Breaks(io.RawIOBase):
    """A stream that gives one chunk, then fails (a client that hangs up mid-upload)."""

    def __init__(self):
        self.sent = False

    def readable(self):
        return True

    def readinto(self, buf):
        if self.sent:
            raise ConnectionResetError("gone")
        self.sent = True
        buf[:4] = b"half"
        return 4


def test_a_write_that_fails_halfway_leaves_the_old_file_whole(store):
    store.put("ab/ab12.jpg", b"the old photo")
    with pytest.raises(ConnectionResetError):
        store.put("ab/ab12.jpg", io.BufferedReader(Breaks()))
    assert store.read("ab/ab12.jpg") == b"the old photo"
    assert list(store.keys()) == ["ab/ab12.jpg"]
    if isinstance(store, LocalStorage):  # and no temp file is left behind
        assert sorted(p.name for p in (store.root / "ab").iterdir()) == ["ab12.jpg"]


def test_the_readiness_check_writes_and_deletes_a_file(store):
    assert store.check() is None
    assert list(store.keys()) == []


def test_response_streams_with_conditional_headers(store):
    data = os.urandom(200_000)
    store.put("ab/ab12.jpg", data)
    app = Flask("t")

    @app.route("/f")
    def send():
        return store.response("ab/ab12.jpg", mimetype="image/jpeg", max_age=3600) or ("none", 404)

    @app.route("/missing")
    def missing():
        return store.response("ab/none.jpg", mimetype="image/jpeg", max_age=3600) or ("none", 404)

    @app.route("/download")
    def download():
        return store.response("ab/ab12.jpg", mimetype="text/csv", max_age=0, as_attachment=True,
                              download_name="台账.csv")

    client = app.test_client()
    resp = client.get("/f")
    assert resp.status_code == 200 and resp.data == data and resp.mimetype == "image/jpeg"
    assert resp.is_streamed is False or resp.direct_passthrough
    assert resp.headers["Content-Length"] == str(len(data)) and resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"] and resp.headers["Last-Modified"] and "max-age=3600" in resp.headers["Cache-Control"]
    again = client.get("/f", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    part = client.get("/f", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert client.get("/missing").status_code == 404
    saved = client.get("/download")
    assert saved.status_code == 200 and saved.data == data
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6.csv" in saved.headers["Content-Disposition"]


def test_serving_reads_a_chunk_at_a_time(store, monkeypatch):
    """A 10 MB file is never read whole into memory: the body is read in bounded pieces."""
    data = os.urandom(10 * 1024 * 1024)
    store.put("ab/big.jpg", data)
    reads = []
    app = Flask("t")

    @app.route("/f")
    def send():
        return store.response("ab/big.jpg", mimetype="image/jpeg", max_age=0)

    if isinstance(store, LocalStorage):
        import werkzeug.wsgi
        real_wrapper = werkzeug.wsgi.FileWrapper.__next__

        def spy(self):
            chunk = real_wrapper(self)
            reads.append(len(chunk))
            return chunk
        monkeypatch.setattr(werkzeug.wsgi.FileWrapper, "__next__", spy)
    else:
        import botocore.response
        real_read = botocore.response.StreamingBody.read

        def spy(self, amt=None):
            chunk = real_read(self, amt)
            reads.append(len(chunk) if amt is not None else -len(chunk))
            return chunk
        monkeypatch.setattr(botocore.response.StreamingBody, "read", spy)
    resp = app.test_client().get("/f", buffered=False)
    body = b"".join(resp.response)
    resp.close()
    assert body == data
    assert reads and max(abs(n) for n in reads) <= 1024 * 1024 and min(reads) >= 0  # never read(None)


# ---- the directory backend ------------------------------------------------------------------------

def test_local_writes_go_through_a_temp_file_in_the_same_folder(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path / "files")
    renames = []
    real = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst)))
        assert not Path(dst).exists() or Path(dst).read_bytes() == b"v1"  # the target whole until the rename
        return real(src, dst)
    monkeypatch.setattr(os, "replace", spy)
    store.put("ab/ab12.jpg", b"v1")
    store.put("ab/ab12.jpg", b"v2")
    assert [(s.parent, d) for s, d in renames] == [(tmp_path / "files" / "ab", tmp_path / "files" / "ab" / "ab12.jpg")] * 2
    assert all(s.name.startswith(".tmp-") for s, _ in renames)
    assert (tmp_path / "files" / "ab" / "ab12.jpg").read_bytes() == b"v2"


def test_local_keys_skip_temp_files_and_links(tmp_path):
    store = LocalStorage(tmp_path / "files")
    store.put("ab/ab12.jpg", b"x")
    (tmp_path / "files" / "ab" / ".tmp-123").write_bytes(b"half")
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "files" / "ab" / "link.jpg").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "files" / ".scratch").mkdir()
    (tmp_path / "files" / ".scratch" / "part-1").write_bytes(b"x")
    assert list(store.keys()) == ["ab/ab12.jpg"]


def test_a_shared_directory_must_exist_the_default_one_is_made(tmp_path):
    shared = LocalStorage(tmp_path / "nfs", create=False)
    assert shared.check() == "目录不存在（共享目录未挂载？）" and not (tmp_path / "nfs").exists()
    with pytest.raises(FileNotFoundError):
        shared.put("ab/ab12.jpg", b"x")
    assert not (tmp_path / "nfs").exists()
    default = LocalStorage(tmp_path / "instance" / "uploads")
    assert default.check() is None and (tmp_path / "instance" / "uploads").is_dir()


def test_the_configuration_chooses_the_backend(tmp_path):
    config = TestConfig({"CRM_INSTANCE_DIR": str(tmp_path)})
    chosen = storage.from_config(config.as_dict())
    assert isinstance(chosen, LocalStorage) and chosen.root == tmp_path / "uploads" and chosen.create
    config = TestConfig({"CRM_INSTANCE_DIR": str(tmp_path), "CRM_UPLOAD_DIR": str(tmp_path / "up")})
    assert storage.from_config(config.as_dict()).root == tmp_path / "up"  # as before
    config = TestConfig({"CRM_INSTANCE_DIR": str(tmp_path), "CRM_UPLOAD_DIR": str(tmp_path / "up"),
                         "CRM_STORAGE_DIR": str(tmp_path / "nfs")})
    chosen = storage.from_config(config.as_dict())
    assert chosen.root == tmp_path / "nfs" and not chosen.create
    config = TestConfig({"CRM_INSTANCE_DIR": str(tmp_path), "CRM_STORAGE_URL": "s3://crm-files/district/a",
                         "CRM_S3_ENDPOINT_URL": "http://127.0.0.1:9", "CRM_S3_REGION": REGION})
    chosen = storage.from_config(config.as_dict())
    assert isinstance(chosen, S3Storage) and (chosen.bucket, chosen.prefix) == ("crm-files", "district/a/")
    assert storage.parse_url("s3://crm-files") == ("crm-files", "")
    for wrong in ("file:///srv/files", "s3:///no-bucket", "s3://b/../x"):
        with pytest.raises(ValueError):
            storage.parse_url(wrong)


# ---- several app servers, one storage -------------------------------------------------------------

def _app(db_url, tmp_path, name, **environ):
    return create_app(TestConfig({"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / name / "instance"),
                                  "CRM_UPLOAD_DIR": str(tmp_path / name / "uploads"), **environ}),
                      JOBS_QUEUE_NAME=f"crm-test-{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["shared-dir", "s3"])
def two_servers(request, db_url, tmp_path):
    """Two app objects, each with its own instance folder, on one database and one storage."""
    if request.param == "shared-dir":
        (tmp_path / "nfs").mkdir()
        environ = {"CRM_STORAGE_DIR": str(tmp_path / "nfs")}
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        environ = {"CRM_STORAGE_URL": f"s3://{new_bucket(endpoint)}/crm", "CRM_S3_ENDPOINT_URL": endpoint,
                   "CRM_S3_REGION": REGION}
    one, two = _app(db_url, tmp_path, "one", **environ), _app(db_url, tmp_path, "two", **environ)
    yield one, two
    for app in (one, two):
        app.extensions["jobs"].huey.storage.flush_all()
    if not db.is_closed():
        db.close()


def test_a_photo_uploaded_on_one_server_is_served_by_another(two_servers, make, tmp_path):
    from crm.photos import services as photos
    from crm.photos.models import Photo
    one, two = two_servers
    with one.app_context():
        user = make.user("staff")
        picture = jpeg().getvalue()
        assert photos.stage([FileStorage(io.BytesIO(picture), "门头.jpg")], "shared-form", user) == []
        photo = Photo.get(Photo.form_key == "shared-form")
        full, thumb = (storage.current().read(photos.key_of(photo, thumb=t)) for t in (False, True))
    client = login_as(two.test_client(), user)
    for path, body in ((f"/photos/{photo.id}", full), (f"/photos/{photo.id}/thumb", thumb)):
        resp = client.get(path)
        assert resp.status_code == 200 and resp.data == body and resp.mimetype == "image/jpeg"
        assert resp.headers["Cache-Control"] == "private, max-age=3600" and resp.headers["ETag"]
    for name in ("one", "two"):  # nothing in either server's own folders
        assert not (tmp_path / name / "uploads").exists() or not any((tmp_path / name / "uploads").rglob("*.jpg"))


def _workbook_job(params, user, progress):
    path = jobs.scratch_path(".xlsx")
    with open(path, "wb") as fh:
        fh.write(params["text"].encode() * 1000)
    return registry.Result("台账导出.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           path=path)


registry.register(registry.JobKind("test_storage_workbook", "测试存储", _workbook_job))


def test_a_job_result_written_by_one_server_is_downloaded_through_another(two_servers, make):
    one, two = two_servers
    with one.app_context():
        user = make.user("staff")
        job = jobs.submit("test_storage_workbook", {"text": "企业"}, user)
    one.extensions["jobs"].drain()  # the worker of server one runs it
    client = login_as(two.test_client(), user)
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done" and status["download_url"]
    resp = client.get(status["download_url"])
    assert resp.status_code == 200 and resp.data == "企业".encode() * 1000
    assert resp.headers["Content-Disposition"].startswith("attachment;") and "xlsx" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-cache, max-age=0"  # as before
    with two.app_context():
        key = jobs.result_key(Job.get_by_id(job.id).result_path)
        assert list(storage.current().keys(jobs.RESULTS)) == [key]
        assert jobs.sweep(utcnow() + timedelta(hours=25))["expired"] == 1  # server two's sweep deletes it
    with one.app_context():
        assert not storage.current().exists(key)
    assert client.get(status["download_url"]).status_code == 404


def test_an_import_uploaded_through_one_server_is_read_and_imported_by_the_other(two_servers, make, tmp_path):
    from crm.enterprises.models import Enterprise
    from crm.imports import services as imports
    from crm.imports.models import ImportBatch
    from tests.conftest import csrf_token
    from tests.job_helpers import run_jobs
    from tests.test_imports import code
    one, two = two_servers
    with one.app_context():
        town = make.org("测试镇总工会")
        user = make.user("supervisor", org=town)
    client = login_as(one.test_client(), user)
    token = csrf_token(client, "/imports/enterprises/new")
    rows = "企业名称,统一社会信用代码\n" + "".join(f"共享导入企业{i},{code(2000 + i)}\n" for i in range(3))
    resp = client.post("/imports/enterprises/new", content_type="multipart/form-data",
                       data={"csrf_token": token, "org": str(town.id), "on_duplicate": "update",
                             "file": (io.BytesIO(rows.encode()), "台账.csv")})
    assert resp.status_code == 302
    with one.app_context():
        batch = ImportBatch.select().order_by(ImportBatch.id.desc()).get()
        assert storage.current().exists(imports.KEYS + batch.stored_path)  # in the shared storage
    assert run_jobs(two) == 1  # server two's worker reads the header
    client.post(f"/imports/{batch.id}/mapping", data={"csrf_token": token, "col0": "name", "col1": "credit_code"})
    assert run_jobs(two) == 1  # … and analyses it
    assert "新建 3" in client.get(f"/imports/{batch.id}").get_data(as_text=True)
    client.post(f"/imports/{batch.id}/commit", data={"csrf_token": token})
    assert run_jobs(two) == 1  # … and imports it
    with two.app_context():
        assert Enterprise.select().where(Enterprise.name.startswith("共享导入企业")).count() == 3
        assert not storage.current().exists(imports.progress_key(batch.id))
    for name in ("one", "two"):  # nothing in either server's own folders
        assert not (tmp_path / name / "instance" / "imports").exists()


# ---- readiness ------------------------------------------------------------------------------------

def _ready(db_url, tmp_path, **environ):
    app = _app(db_url, tmp_path, "probe", **environ)
    resp = app.test_client().get("/readyz")
    return resp.status_code, resp.get_json()


def test_readyz_fails_when_the_shared_directory_is_missing_or_not_writable(db_url, tmp_path):
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_DIR=str(tmp_path / "not-mounted"))
    assert status == 503 and body["checks"]["storage"] == "failed" and body["checks"]["database"] == "ok"
    assert body["reasons"] == {"storage": "目录不存在（共享目录未挂载？）"}
    assert not (tmp_path / "not-mounted").exists()  # not made: an unmounted share stays visible
    assert Path("/sys").is_dir()
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_DIR="/sys")  # sysfs: no one may write, root included
    assert status == 503 and body["reasons"] == {"storage": "不可写"}
    (tmp_path / "nfs").mkdir()
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_DIR=str(tmp_path / "nfs"))
    assert status == 200 and body["checks"]["storage"] == "ok" and list((tmp_path / "nfs").iterdir()) == []


def test_readyz_follows_the_object_storage(db_url, tmp_path, s3_endpoint):
    bucket = new_bucket(s3_endpoint)
    s3 = {"CRM_S3_ENDPOINT_URL": s3_endpoint, "CRM_S3_REGION": REGION}
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_URL=f"s3://{bucket}/crm", **s3)
    assert status == 200 and body["checks"]["storage"] == "ok"
    assert boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION).list_objects_v2(
        Bucket=bucket).get("KeyCount") == 0  # its probe is gone
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_URL="s3://crm-no-such-bucket/crm", **s3)
    assert status == 503 and body["reasons"] == {"storage": "存储桶不存在"}
    status, body = _ready(db_url, tmp_path, CRM_STORAGE_URL=f"s3://{bucket}/crm", CRM_S3_REGION=REGION,
                          CRM_S3_ENDPOINT_URL=f"http://127.0.0.1:{_free_port()}")
    assert status == 503 and body["reasons"] == {"storage": "无法连接对象存储"}


# ---- backup and restore through object storage ----------------------------------------------------

def _empty_sqlite(template_db, path: Path) -> str:
    """A migrated, empty SQLite database of its own (on a PostgreSQL run too), so that a restore
    has an empty instance to go into."""
    if isinstance(template_db, Path):
        shutil.copy(template_db, path)
    else:
        database = bind(f"sqlite:///{path}")
        database.connect()
        schema.upgrade()
        database.close()
    return f"sqlite:///{path}"


def test_backup_copies_the_bucket_and_restore_fills_an_empty_one(template_db, tmp_path, s3_endpoint):
    source_db, target_db = _empty_sqlite(template_db, tmp_path / "source.db"), _empty_sqlite(template_db, tmp_path / "target.db")
    source = S3Storage(new_bucket(s3_endpoint), "crm/", endpoint_url=s3_endpoint, region=REGION)
    files = {"ab/ab12.jpg": b"photo", "ab/ab12_t.jpg": b"thumb", "founding/cd/cd34.pdf": b"%PDF-1.4 doc"}
    for key, data in files.items():
        source.put(key, data)
    source.put("job_results/r1.xlsx", b"a result: not backed up")
    manifest = backup.backup(source_db, source, tmp_path / "backup")
    assert manifest["uploads"]["files"] == 3 and manifest["uploads"]["bytes"] == sum(map(len, files.values()))
    assert (tmp_path / "backup" / "uploads" / "founding" / "cd" / "cd34.pdf").read_bytes() == b"%PDF-1.4 doc"
    assert not (tmp_path / "backup" / "uploads" / "job_results").exists()

    target = S3Storage(new_bucket(s3_endpoint), "", endpoint_url=s3_endpoint, region=REGION)
    target.put("ab/zz.jpg", b"already here")
    with pytest.raises(backup.BackupError, match=r"对象存储 s3://crm-test-\w+/ 中已有 1 个文件"):
        backup.restore(target_db, target, tmp_path / "backup")
    target.delete("ab/zz.jpg")
    target.put("job_results/old.xlsx", b"x")  # a result does not make a storage non-empty
    backup.restore(target_db, target, tmp_path / "backup")
    assert {key: target.read(key) for key in target.keys() if not key.startswith("job_results/")} == files


def test_restore_refuses_a_backup_with_a_file_that_is_no_key(template_db, tmp_path):
    store = LocalStorage(tmp_path / "files")
    store.put("ab/ab12.jpg", b"photo")
    backup.backup(_empty_sqlite(template_db, tmp_path / "source.db"), store, tmp_path / "backup")
    (tmp_path / "backup" / "uploads" / "ab" / "照片 副本.jpg").write_bytes(b"x")  # put there by hand
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["uploads"]["files"] += 1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    target_db = tmp_path / "target.db"
    with pytest.raises(backup.BackupError, match="文件名 ab/照片 副本.jpg 无效"):
        backup.restore(_empty_sqlite(template_db, target_db), tmp_path / "restored", tmp_path / "backup")
    assert not (tmp_path / "restored").exists()  # refused before anything was written


def test_two_threads_writing_one_key_leave_one_whole_file(tmp_path):
    store = LocalStorage(tmp_path / "files")
    a, b = os.urandom(2 * 1024 * 1024), os.urandom(2 * 1024 * 1024)
    threads = [threading.Thread(target=lambda d=d: [store.put("ab/same.jpg", d) for _ in range(5)]) for d in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert store.read("ab/same.jpg") in (a, b)
    assert sorted(p.name for p in (tmp_path / "files" / "ab").iterdir()) == ["same.jpg"]

"""导入 as jobs (后台任务), on the SQLite queue and on Redis (tests/test_jobs.py's backends): the
upload keeps the file and the web request only queues work; the analysis reports "已分析 n / N 行"
and keeps the preview; the import reports "已导入 n / N 行" while its transaction runs; a failure
shows its Chinese reason and 重试 runs it again; a second tap imports once."""
import re
import threading

import pytest

from crm import storage
from crm.enterprises.models import Enterprise
from crm.imports import jobs as import_jobs
from crm.imports import services
from crm.imports.models import ImportBatch
from crm.jobs.models import Job
from tests.conftest import csrf_token, login_as
from tests.test_imports import code
from tests.test_jobs import app, backend, people, queue, queue_name  # noqa: F401 (fixtures)

ROWS = 700  # past one progress report (every 500 rows)


@pytest.fixture
def sup(make, people):  # noqa: F811
    return make.user("supervisor", org=people["town"], username="sup", name="主管甲")


def _upload(app, client, org, rows=ROWS):  # noqa: F811
    token = csrf_token(client, "/imports/enterprises/new")
    lines = ["企业名称,统一社会信用代码"] + [f"后台导入企业{i:04d},{code(1000 + i)}" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    import io
    resp = client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(org.id), "on_duplicate": "update",
                                                         "file": (io.BytesIO(data), "大台账.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        batch = ImportBatch.select().order_by(ImportBatch.id.desc()).get()
    assert batch.header_row is None and batch.job.kind == "import_read"  # the request only kept the file
    assert queue(app).drain() == 1
    resp = client.post(f"/imports/{batch.id}/mapping", data={"csrf_token": token, "col0": "name",
                                                             "col1": "credit_code"})
    assert resp.headers["Location"].endswith(f"/imports/{batch.id}")
    return batch.id, token


def _batch(app, batch_id):  # noqa: F811
    with app.app_context():
        return ImportBatch.get_by_id(batch_id)


def _gated(monkeypatch, module, name, wrap_arg):
    """Make module.name stop at its first progress report until the test says go."""
    reached, go = threading.Event(), threading.Event()
    original = getattr(module, name)

    def gate(report):
        def inner(*args):
            report(*args)
            if not reached.is_set():
                reached.set()
                assert go.wait(300)
        return inner
    monkeypatch.setattr(module, name, wrap_arg(original, gate))
    return reached, go


def _in_worker(app):  # noqa: F811
    worker = threading.Thread(target=queue(app).drain)
    worker.start()
    return worker


def test_the_analysis_and_the_import_run_as_jobs_with_their_progress(app, people, sup, monkeypatch):  # noqa: F811
    client = login_as(app.test_client(), sup)
    batch_id, token = _upload(app, client, people["town"])
    batch = _batch(app, batch_id)
    assert batch.job is not None and batch.job.kind == "import_analyse" and batch.analysis == ""
    with app.app_context():
        assert services.stored_file(batch).is_file()  # kept where the batch keeps it
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "正在分析文件" in page and "jobs.js" in page and f'data-status-url="/imports/{batch_id}.json"' in page

    reached, go = _gated(monkeypatch, import_jobs.services, "analyse",
                         lambda original, gate: lambda b, u, progress=None: original(b, u, gate(progress)))
    worker = _in_worker(app)
    try:
        assert reached.wait(300)
        status = client.get(f"/imports/{batch_id}.json").get_json()
        assert status["state"] == "running" and re.fullmatch(r"已分析 500 / \d+ 行", status["progress_text"])
        assert 60 <= status["progress"] <= 80  # 500 of about 700
    finally:
        go.set()
        worker.join(300)
        assert not worker.is_alive()
    preview = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert f"新建 {ROWS}" in preview and "确认导入" in preview  # the kept analysis, read without re-reading the file
    assert _batch(app, batch_id).job.state == "done"

    reached, go = _gated(monkeypatch, import_jobs.services, "write_progress",
                         lambda original, gate: lambda batch_id, done: (gate(lambda n: original(batch_id, n))(done)
                                                                         if done else original(batch_id, done)))
    resp = client.post(f"/imports/{batch_id}/commit", data={"csrf_token": token})
    assert resp.headers["Location"].endswith(f"/imports/{batch_id}")
    again = client.post(f"/imports/{batch_id}/commit", data={"csrf_token": token})  # a second tap
    assert again.status_code == 302
    with app.app_context():
        assert Job.select().where(Job.kind == "import_commit").count() == 1
    worker = _in_worker(app)
    try:
        assert reached.wait(300)
        status = client.get(f"/imports/{batch_id}.json").get_json()
        assert status["state"] == "running" and status["progress_text"].startswith(f"已导入 500 / {ROWS} 行")
        page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
        assert "正在导入" in page and "全部完成前不会写入任何一行" in page
        with app.app_context():
            assert not Enterprise.select().where(Enterprise.name.startswith("后台导入企业")).exists()
    finally:
        go.set()
        worker.join(300)
        assert not worker.is_alive()
    done = _batch(app, batch_id)
    assert done.status == "committed" and done.created == ROWS and done.job.state == "done"
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert str(ROWS) in page and "正在导入" not in page and "jobs.js" not in page
    with app.app_context():
        assert not storage.current().exists(services.progress_key(batch_id))


def test_a_failed_import_shows_its_reason_and_is_retried(app, people, sup, monkeypatch):  # noqa: F811
    from crm.enterprises import services as ent_services
    client = login_as(app.test_client(), sup)
    batch_id, token = _upload(app, client, people["town"], rows=30)
    queue(app).drain()
    original = ent_services.create_enterprise
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 20:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)
    monkeypatch.setattr(ent_services, "create_enterprise", broken)
    client.post(f"/imports/{batch_id}/commit", data={"csrf_token": token})
    with app.app_context():
        Job.update(max_attempts=1).where(Job.kind == "import_commit").execute()
    queue(app).drain()
    failed = _batch(app, batch_id)
    assert failed.status == "failed" and failed.job.state == "failed"
    with app.app_context():
        assert not Enterprise.select().where(Enterprise.name.startswith("后台导入企业")).exists()  # all or nothing
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "导入失败：处理时出错（RuntimeError）" in page and "重试" in page

    monkeypatch.setattr(ent_services, "create_enterprise", original)
    resp = client.post(f"/imports/{batch_id}/retry", data={"csrf_token": token})
    assert resp.headers["Location"].endswith(f"/imports/{batch_id}")
    assert _batch(app, batch_id).job.state == "queued"
    queue(app).drain()
    done = _batch(app, batch_id)
    assert done.status == "committed" and done.created == 30 and done.job.state == "done"


def test_an_analysis_that_cannot_read_the_file_fails_with_its_reason(app, people, sup):  # noqa: F811
    client = login_as(app.test_client(), sup)
    batch_id, token = _upload(app, client, people["town"], rows=3)
    with app.app_context():
        path = services.stored_file(ImportBatch.get_by_id(batch_id))
    saved = path.read_bytes()
    path.unlink()
    queue(app).drain()
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "分析失败：上传的文件已不在服务器上，请重新上传" in page and "重试" in page
    assert _batch(app, batch_id).job.attempts == 1  # a reason retrying cannot mend: failed at once
    path.write_bytes(saved)
    client.post(f"/imports/{batch_id}/retry", data={"csrf_token": token})
    queue(app).drain()
    assert "新建 3" in client.get(f"/imports/{batch_id}").get_data(as_text=True)
    # A new mapping is analysed again (the kept analysis was for the old one).
    client.post(f"/imports/{batch_id}/mapping", data={"csrf_token": token, "col0": "name", "col1": ""})
    assert "正在分析文件" in client.get(f"/imports/{batch_id}").get_data(as_text=True)
    queue(app).drain()
    assert "新建 3" in client.get(f"/imports/{batch_id}").get_data(as_text=True)


def test_the_rejected_rows_of_a_long_file_are_a_job(app, people, sup):  # noqa: F811
    from openpyxl import load_workbook
    client = login_as(app.test_client(), sup)
    token = csrf_token(client, "/imports/enterprises/new")
    import io
    data = "企业名称,统一社会信用代码\n好企业,{}\n坏企业一,ABC\n坏企业二,XYZ\n".format(code(5000)).encode("utf-8")
    client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(people["town"].id),
                                                  "on_duplicate": "update", "file": (io.BytesIO(data), "坏.csv")},
                content_type="multipart/form-data")
    with app.app_context():
        batch = ImportBatch.select().order_by(ImportBatch.id.desc()).get()
    queue(app).drain()
    client.post(f"/imports/{batch.id}/mapping", data={"csrf_token": token, "col0": "name", "col1": "credit_code"})
    queue(app).drain()
    offer = client.get(f"/imports/{batch.id}/rejected.xlsx")  # 3 rows > CRM_EXPORT_INLINE_ROWS (2 here)
    assert offer.status_code == 200 and "在后台生成" in offer.get_data(as_text=True)
    with app.app_context():
        assert not Job.select().where(Job.kind == "import_rejected").exists()  # a GET starts nothing
    resp = client.post(f"/imports/{batch.id}/rejected.xlsx", data={"csrf_token": token})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    queue(app).drain()
    with app.app_context():
        job = Job.get(Job.kind == "import_rejected")
    assert job.state == "done" and job.result_name == "未导入的行-坏.xlsx", job.error
    sheet = load_workbook(io.BytesIO(client.get(f"/jobs/{job.id}/download").data)).active
    assert [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["坏企业一", "坏企业二"]


def test_a_file_whose_header_cannot_be_read_fails_with_its_reason(app, people, sup):  # noqa: F811
    import io
    client = login_as(app.test_client(), sup)
    token = csrf_token(client, "/imports/enterprises/new")
    resp = client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(people["town"].id),
                                                         "on_duplicate": "update",
                                                         "file": (io.BytesIO(b"PK\x03\x04 broken"), "坏.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "正在读取文件" in page
    queue(app).drain()
    with app.app_context():
        batch = ImportBatch.select().order_by(ImportBatch.id.desc()).get()
    assert batch.status == "failed" and batch.job.state == "failed" and "无法读取" in batch.job.error
    page = client.get(f"/imports/{batch.id}", follow_redirects=True).get_data(as_text=True)
    assert "读取文件失败：无法读取这个 Excel 文件" in page and "重试" in page and "重新上传" in page

"""系统管理 → 数据备份 and 统计重算 (admins only, named rules manage_backups / rebuild_stats): a button
starts the job, its page shows the progress, a backup's .tar.gz is downloaded while kept (both the
backup and the download audit-logged), a failure shows its reason and 重试 runs it again. On the
SQLite queue and on Redis (tests/test_jobs.py's backends)."""
import io
import json
import tarfile
import threading

import pytest

from crm.audit.models import AuditEvent
from crm.jobs.models import Job
from crm.ops import backup
from crm.ops import jobs as backup_jobs
from crm.stats import jobs as stats_jobs
from crm.stats.models import UnitStat
from tests.conftest import csrf_token, login_as
from tests.test_jobs import app, backend, people, queue, queue_name  # noqa: F401 (fixtures)


def _gate(monkeypatch, module, name):
    """module.name waits (before running) until the test says go."""
    reached, go = threading.Event(), threading.Event()
    original = getattr(module, name)

    def gated(*args, **kwargs):
        reached.set()
        assert go.wait(60)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, gated)
    return reached, go


def _start(app, client, path):  # noqa: F811
    resp = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"], resp.headers.get("Location")
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def _job(app, job_id) -> Job:  # noqa: F811
    with app.app_context():
        return Job.get_by_id(job_id)


@pytest.mark.parametrize("path", ["/admin/backups", "/admin/stats"])
def test_only_admins_reach_the_pages(app, people, make, path):  # noqa: F811
    admin = login_as(app.test_client(), people["admin"])
    page = admin.get(path).get_data(as_text=True)
    assert ("开始备份" if "backups" in path else "开始重算") in page
    assert ("数据备份" in admin.get("/").get_data(as_text=True)) and "统计重算" in page
    supervisor = make.user("supervisor", org=people["town"])
    for user in (people["zhang"], supervisor):
        client = login_as(app.test_client(), user)
        assert client.get(path).status_code == 403
        assert client.post(path, data={"csrf_token": csrf_token(client, "/jobs/")}).status_code == 403
        assert f'href="{path}"' not in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert Job.select().count() == 0


def test_a_backup_from_the_page_is_a_download_while_kept_and_audit_logged(app, people, make, monkeypatch):  # noqa: F811
    make.enterprise(org=people["town"], user=people["zhang"], name="备份企业有限公司")
    client = login_as(app.test_client(), people["admin"])
    reached, go = _gate(monkeypatch, backup, "backup")
    job_id = _start(app, client, "/admin/backups")
    worker = threading.Thread(target=queue(app).drain)
    worker.start()
    try:
        assert reached.wait(300)
        status = client.get(f"/jobs/{job_id}.json").get_json()
        assert status["state"] == "running" and status["progress_text"] == "正在备份数据库和照片"
        again = client.post("/admin/backups", data={"csrf_token": csrf_token(client, "/admin/backups")},
                            follow_redirects=True)
        assert "数据备份正在进行" in again.get_data(as_text=True)  # one at a time
    finally:
        go.set()
        worker.join(120)
    job = _job(app, job_id)
    assert job.state == "done", job.error
    assert job.result_name.startswith("crm-backup-") and job.result_name.endswith(".tar.gz")
    listing = client.get("/admin/backups").get_data(as_text=True)
    assert f"/jobs/{job_id}/download" in listing and "已完成" in listing
    resp = client.get(f"/jobs/{job_id}/download")
    assert resp.status_code == 200 and resp.mimetype == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(resp.data), mode="r:gz") as tar:
        names = tar.getnames()
        [manifest_name] = [n for n in names if n.endswith("/manifest.json")]
        manifest = json.load(tar.extractfile(manifest_name))
    assert manifest["tables"]["enterprise"] == 1 and manifest["app"] == "yiqi-yidang-crm"
    with app.app_context():
        events = [(e.kind, e.username) for e in AuditEvent.select().where(AuditEvent.kind == "backup")
                  .order_by(AuditEvent.id)]
        download = AuditEvent.select().where(AuditEvent.kind == "backup").order_by(AuditEvent.id.desc()).get()
    assert events == [("backup", "admin"), ("backup", "admin")]  # made, then downloaded
    assert download.detail == f"下载 {job.result_name}"


def test_a_failed_backup_shows_its_reason_and_is_retried(app, people, monkeypatch):  # noqa: F811
    original = backup.backup

    def broken(*args):
        raise backup.BackupError("找不到数据库文件：/nowhere/crm.db")
    monkeypatch.setattr(backup, "backup", broken)
    client = login_as(app.test_client(), people["admin"])
    job_id = _start(app, client, "/admin/backups")
    queue(app).drain()
    failed = _job(app, job_id)
    assert failed.state == "failed" and failed.error == "找不到数据库文件：/nowhere/crm.db" and failed.attempts == 1
    assert "找不到数据库文件" in client.get("/admin/backups").get_data(as_text=True)
    assert "失败原因" in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    monkeypatch.setattr(backup, "backup", original)
    client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_token(client, f"/jobs/{job_id}")})
    queue(app).drain()
    done = _job(app, job_id)
    assert done.state == "done" and done.kind == backup_jobs.BACKUP and done.result_size > 0


def test_stats_rebuild_from_the_page_with_its_progress_failure_and_retry(app, people, make, monkeypatch):  # noqa: F811
    make.enterprise(org=people["town"], user=people["zhang"], name="统计企业有限公司")
    client = login_as(app.test_client(), people["admin"])
    calls = []
    original = stats_jobs.services.rebuild

    def flaky(years=None, progress=None):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("lost connection")
        return original(years, progress)
    monkeypatch.setattr(stats_jobs.services, "rebuild", flaky)
    job_id = _start(app, client, "/admin/stats")
    with app.app_context():
        Job.update(max_attempts=1).where(Job.id == job_id).execute()
    queue(app).drain()
    failed = _job(app, job_id)
    assert failed.state == "failed" and failed.error.startswith("处理时出错（RuntimeError）")
    assert "处理时出错" in client.get("/admin/stats").get_data(as_text=True)

    seen = []
    reached = threading.Event()

    def watched(years=None, progress=None):
        def report(done, total):
            progress(done, total)
            if not reached.is_set():
                seen.append(client.get(f"/jobs/{job_id}.json").get_json())
                reached.set()
        return original(years, report)
    monkeypatch.setattr(stats_jobs.services, "rebuild", watched)
    client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_token(client, f"/jobs/{job_id}")})
    queue(app).drain()
    done = _job(app, job_id)
    assert done.state == "done" and done.progress == 100
    [status] = seen
    assert status["state"] == "running" and status["progress_text"].startswith("已重算 1 / ")
    with app.app_context():
        assert UnitStat.select().count() > 0
        assert AuditEvent.select().where(AuditEvent.kind == "stats_rebuild").count() == 1

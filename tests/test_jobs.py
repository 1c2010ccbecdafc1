"""后台任务: jobs on the queue (SqliteHuey storage, and RedisHuey when Redis answers on
127.0.0.1:6379), run by a worker from the job's row.

A job's progress is seen from the web while a worker runs it; its result is downloaded; a failure
is retried after a delay and then failed with its reason; 重试 queues it again; two workers given
the same job run it once; a job submitted through one app instance is finished by a worker
started from a new one (`crm worker --burst`); another user's job is a 404; the big enterprise
export and the monthly workbook become jobs (a GET only offers the button that posts)."""
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from config import TestConfig
from crm import create_app, storage
from crm.common.timeutil import utcnow
from crm.db import db
from crm.jobs import registry, services
from crm.jobs.models import Job
from tests.conftest import csrf_token, login_as

REDIS = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        import redis
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except Exception:  # noqa: BLE001 (no server: those runs are not made)
        return False


BACKENDS = ["sqlite"] + (["redis"] if _redis_answers() else [])


# ---- job kinds of the tests ---------------------------------------------------------------------

CALLS = []
GATE = {}  # "reached" and "go": threading.Events for a job that waits in the middle
FLAKY = {"fail": True}


def _hello(params, user, progress):
    CALLS.append(("hello", params, user.username))
    progress(40, "正在处理一半")
    if GATE:
        GATE["reached"].set()
        assert GATE["go"].wait(30)
    progress(90, "快好了")
    return registry.Result("问候.txt", "text/plain; charset=utf-8", data=f"你好，{params['who']}".encode())


def _flaky(params, user, progress):
    CALLS.append(("flaky", params, user.username))
    if FLAKY["fail"]:
        raise RuntimeError("boom")
    return registry.Result("好了.txt", "text/plain", data=b"ok")


def _refused(params, user, progress):
    raise registry.JobFailed("单位不存在或不在管辖范围内")


registry.register(registry.JobKind("test_hello", "测试问候", _hello))
registry.register(registry.JobKind("test_flaky", "测试不稳定", _flaky, max_attempts=2))
registry.register(registry.JobKind("test_refused", "测试拒绝", _refused))


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    GATE.clear()
    FLAKY["fail"] = True
    yield
    if GATE:
        GATE["go"].set()


# ---- apps -----------------------------------------------------------------------------------------

def build_app(db_url, tmp_path, backend, name, **environ):
    env = {"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / "instance"),
           "CRM_UPLOAD_DIR": str(tmp_path / "uploads"), **environ}
    if backend == "redis":
        env["CRM_REDIS_URL"] = REDIS
    return create_app(TestConfig(env), JOBS_QUEUE_NAME=name)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def queue_name():
    return f"crm-test-{uuid.uuid4().hex[:12]}"  # a key prefix of its own in Redis


@pytest.fixture
def app(db_url, tmp_path, backend, queue_name):
    application = build_app(db_url, tmp_path, backend, queue_name, CRM_EXPORT_INLINE_ROWS="2")
    yield application
    application.extensions["jobs"].huey.storage.flush_all()  # this test's Redis keys (or file rows)
    if not db.is_closed():
        db.close()


def queue(app):
    return app.extensions["jobs"]


def waiting(app) -> int:
    huey = queue(app).huey
    return huey.pending_count() + huey.scheduled_count()


@pytest.fixture
def people(make):
    root = make.root()
    town = make.org("甲镇总工会", parent=root)
    return {"root": root, "town": town,
            "zhang": make.user("staff", org=town, username="zhang", name="张三"),
            "li": make.user("staff", org=town, username="li", name="李四"),
            "admin": make.user("admin", org=root, username="admin", name="管理员")}


def submit(app, kind, params, user):
    with app.app_context():
        return services.submit(kind, params, user)


def row(app, job_id) -> Job:
    with app.app_context():
        return Job.get_by_id(job_id)


# ---- a job's life ---------------------------------------------------------------------------------

def test_progress_seen_while_a_worker_runs_it_then_the_result_downloaded(app, people):
    job = submit(app, "test_hello", {"who": "张三"}, people["zhang"])
    assert row(app, job.id).state == "queued" and waiting(app) == 1
    client = login_as(app.test_client(), people["zhang"])
    assert client.get(f"/jobs/{job.id}.json").get_json()["state"] == "queued"

    GATE.update(reached=threading.Event(), go=threading.Event())
    worker = threading.Thread(target=queue(app).drain)
    worker.start()
    try:
        assert GATE["reached"].wait(30)
        status = client.get(f"/jobs/{job.id}.json").get_json()
        assert status["state"] == "running" and status["progress"] == 40
        assert status["progress_text"] == "正在处理一半" and status["download_url"] is None
        page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "进行中" in page and 'data-width="40"' in page and "jobs.js" in page and "<script>" not in page
    finally:
        GATE["go"].set()
        worker.join(30)
    assert CALLS == [("hello", {"who": "张三"}, "zhang")]

    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done" and status["progress"] == 100
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and "下载 问候.txt" in page
    resp = client.get(status["download_url"])
    assert resp.status_code == 200 and resp.data.decode() == "你好，张三"
    assert "问候.txt" in unquote(resp.headers["Content-Disposition"])
    stored = row(app, job.id)
    assert stored.result_path and stored.result_path != "问候.txt"  # a random name in the instance folder
    assert stored.started_at and stored.finished_at and stored.attempts == 1
    listing = client.get("/jobs/").get_data(as_text=True)
    assert "测试问候" in listing and f"/jobs/{job.id}" in listing


def test_a_result_expires_and_is_deleted(app, people):
    job = submit(app, "test_hello", {"who": "李四"}, people["li"])
    queue(app).drain()
    client = login_as(app.test_client(), people["li"])
    assert client.get(f"/jobs/{job.id}/download").status_code == 200
    with app.app_context():
        key = services.result_key(row(app, job.id).result_path)
        assert storage.current().exists(key)
        orphan = storage.current().scratch(".xlsx")  # what a worker killed mid-job leaves
        counts = services.sweep(utcnow() + timedelta(hours=25))
        assert counts["expired"] == 1 and not storage.current().exists(key)
        assert counts["leftovers"] >= 1 and not os.path.exists(orphan)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert "结果已过期" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_failure_is_retried_after_a_delay_then_failed_with_its_reason_and_retried_by_hand(app, people):
    job = submit(app, "test_flaky", {}, people["zhang"])
    queue(app).drain()
    first = row(app, job.id)
    assert first.state == "queued" and first.attempts == 1 and "RuntimeError" in first.error
    assert first.not_before > utcnow()  # the retry waits
    assert queue(app).huey.scheduled_count() == 1
    client = login_as(app.test_client(), people["zhang"])
    assert "上次失败，稍后自动重试" in client.get(f"/jobs/{job.id}").get_data(as_text=True)

    queue(app).drain(until=datetime.utcnow() + timedelta(hours=1))  # woken early: not run
    assert len(CALLS) == 1 and row(app, job.id).attempts == 1
    with app.app_context():
        Job.update(not_before=utcnow() - timedelta(seconds=1)).where(Job.id == job.id).execute()
    queue(app).drain(until=datetime.utcnow() + timedelta(hours=1))
    failed = row(app, job.id)
    assert len(CALLS) == 2 and failed.state == "failed" and failed.attempts == 2 == failed.max_attempts
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "失败原因" in page and "处理时出错（RuntimeError）" in page and "重试" in page
    assert client.get(f"/jobs/{job.id}.json").get_json()["error"].startswith("处理时出错")

    FLAKY["fail"] = False
    resp = client.post(f"/jobs/{job.id}/retry", data={"csrf_token": csrf_token(client, f"/jobs/{job.id}")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/jobs/{job.id}")
    again = row(app, job.id)
    assert again.state == "queued" and again.attempts == 0 and again.error == ""
    queue(app).drain()
    assert row(app, job.id).state == "done" and len(CALLS) == 3
    assert client.get(f"/jobs/{job.id}/download").data == b"ok"
    # Only a failed job is retried.
    resp = client.post(f"/jobs/{job.id}/retry", data={"csrf_token": csrf_token(client, f"/jobs/{job.id}")},
                       follow_redirects=True)
    assert "只有失败的任务可以重试" in resp.get_data(as_text=True) and row(app, job.id).state == "done"


def test_a_job_that_cannot_succeed_fails_at_once_with_its_reason(app, people):
    job = submit(app, "test_refused", {}, people["zhang"])
    queue(app).drain()
    failed = row(app, job.id)
    assert failed.state == "failed" and failed.attempts == 1 and failed.error == "单位不存在或不在管辖范围内"
    assert waiting(app) == 0


def test_two_workers_given_one_job_run_it_once(app, people):
    job = submit(app, "test_hello", {"who": "张三"}, people["zhang"])
    queue(app).enqueue(job.id)  # sent twice (a sweep, a second server): two tasks, one job
    assert queue(app).huey.pending_count() == 2
    GATE.update(reached=threading.Event(), go=threading.Event())
    first = threading.Thread(target=queue(app).drain)
    first.start()
    try:
        assert GATE["reached"].wait(30)  # the first worker holds it
        second = threading.Thread(target=queue(app).drain)
        second.start()
        second.join(30)
        assert not second.is_alive()  # it took the other task, could not claim the job, and stopped
    finally:
        GATE["go"].set()
        first.join(30)
    assert CALLS == [("hello", {"who": "张三"}, "zhang")] and row(app, job.id).state == "done"
    with app.app_context():
        assert services.claim(job.id) is None  # done: nobody claims it again


def test_the_claim_is_one_update_checked_by_its_row_count(app, people):
    job = submit(app, "test_hello", {"who": "x"}, people["zhang"])
    with app.app_context():
        token = services.claim(job.id)
        assert token and services.claim(job.id) is None
        held = Job.get_by_id(job.id)
        assert held.state == "running" and held.lease == token and held.lease_until > utcnow()


def test_a_job_whose_worker_died_goes_back_to_the_queue(app, people):
    job = submit(app, "test_hello", {"who": "王五"}, people["zhang"])
    queue(app).huey.flush()  # the wake-up call is lost with the dead worker
    with app.app_context():
        assert services.claim(job.id)  # … which had claimed it
        assert services.sweep()["requeued"] == 0  # its lease still runs
        assert services.sweep(utcnow() + services.LEASE + timedelta(seconds=1))["requeued"] == 1
    assert row(app, job.id).state == "queued"
    queue(app).drain()
    assert row(app, job.id).state == "done" and CALLS == [("hello", {"who": "王五"}, "zhang")]


def test_a_job_submitted_through_one_app_is_finished_by_a_worker_of_a_new_one(db_url, tmp_path, backend, queue_name,
                                                                               app, people, make):
    for i in range(3):
        make.enterprise(org=people["town"], user=people["zhang"], name=f"京东物流{i}有限公司")
    web = login_as(app.test_client(), people["zhang"])
    resp = web.post("/enterprises/export.xlsx?q=京东", data={"csrf_token": csrf_token(web, "/enterprises/")})
    assert resp.status_code == 302
    job_id = int(re.search(r"/jobs/(\d+)$", resp.headers["Location"]).group(1))
    assert row(app, job_id).kind == "enterprise_export" and row(app, job_id).state == "queued"
    del web, resp  # the web worker that submitted it is gone

    fresh = build_app(db_url, tmp_path, backend, queue_name, CRM_EXPORT_INLINE_ROWS="2")
    result = fresh.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "已处理 1 个任务" in result.output
    client = login_as(fresh.test_client(), people["zhang"])
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["state"] == "done", status
    resp = client.get(status["download_url"])
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "企业台账-" in unquote(resp.headers["Content-Disposition"])
    ws = load_workbook(io.BytesIO(resp.data)).active
    names = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["京东物流0有限公司", "京东物流1有限公司", "京东物流2有限公司"]


def test_another_users_job_is_a_404_and_an_admin_sees_it(app, people):
    job = submit(app, "test_hello", {"who": "张三"}, people["zhang"])
    queue(app).drain()
    other = login_as(app.test_client(), people["li"])
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/jobs/{job.id}/download"):
        assert other.get(path).status_code == 404, path
    token = csrf_token(other, "/jobs/")
    assert other.post(f"/jobs/{job.id}/retry", data={"csrf_token": token}).status_code == 404
    assert f"/jobs/{job.id}" not in other.get("/jobs/").get_data(as_text=True)
    assert other.get("/jobs/99999").status_code == 404
    admin = login_as(app.test_client(), people["admin"])
    assert admin.get(f"/jobs/{job.id}").status_code == 200
    assert "张三" in admin.get("/jobs/").get_data(as_text=True)
    anonymous = app.test_client()
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}.json", f"/jobs/{job.id}/download", "/jobs/"):
        resp = anonymous.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    resp = anonymous.post(f"/jobs/{job.id}/retry", data={"csrf_token": csrf_token(anonymous, "/login")})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# ---- the first kinds --------------------------------------------------------------------------------

def test_a_small_export_stays_a_download_and_a_big_one_becomes_a_job(app, people, make):
    client = login_as(app.test_client(), people["zhang"])
    make.enterprise(org=people["town"], user=people["zhang"], name="顺丰速运一有限公司")
    small = client.get("/enterprises/export.xlsx")
    assert small.mimetype.endswith("spreadsheetml.sheet")  # 1 file ≤ 2: at once
    for i in range(2):
        make.enterprise(org=people["town"], user=people["zhang"], name=f"顺丰速运{i}号有限公司")
    offer = client.get("/enterprises/export.xlsx?q=顺丰")
    html = offer.get_data(as_text=True)
    assert offer.status_code == 200 and "超过 2 个" in html and "在后台生成" in html
    assert 'action="/enterprises/export.xlsx?q=' in html
    with app.app_context():
        assert Job.select().count() == 0  # a GET changes nothing
    resp = client.post("/enterprises/export.xlsx?q=顺丰", data={"csrf_token": csrf_token(client, "/enterprises/")})
    assert resp.status_code == 302
    queue(app).drain()
    with app.app_context():
        job = Job.get()
        assert job.state == "done" and unquote(json.loads(job.params)["query"]) == "q=顺丰"
    data = client.get(f"/jobs/{job.id}/download").data
    assert load_workbook(io.BytesIO(data)).active.max_row == 4  # the header and 3 files
    assert client.post("/enterprises/export.xlsx?q=顺丰", data={}).status_code == 400  # no CSRF token


def test_the_monthly_workbook_of_a_big_unit_is_a_job(app, people, make):
    for i in range(3):
        make.enterprise(org=people["town"], user=people["zhang"], name=f"企业{i}有限公司")
    client = login_as(app.test_client(), people["admin"])
    offer = client.get("/reports/monthly.xlsx?ym=2026-10")
    assert offer.status_code == 200 and "在后台生成" in offer.get_data(as_text=True)
    resp = client.post("/reports/monthly.xlsx?ym=2026-10",
                       data={"csrf_token": csrf_token(client, "/reports/monthly?ym=2026-10")})
    assert resp.status_code == 302
    queue(app).drain()
    with app.app_context():
        job = Job.get()
    assert job.kind == "monthly_workbook" and job.state == "done", job.error
    resp = client.get(f"/jobs/{job.id}/download")
    assert "2026年10月月度通报" in unquote(resp.headers["Content-Disposition"])
    assert load_workbook(io.BytesIO(resp.data)).sheetnames == ["双沟通达标", "单位排名", "建会进度变动"]
    # A town's staff asks for the town's: within the scope; another unit's stays a 404.
    staff = login_as(app.test_client(), people["zhang"])
    other = make.org("乙镇总工会", parent=people["root"])
    assert staff.get(f"/reports/monthly.xlsx?org={other.id}&ym=2026-10").status_code == 404


def test_the_queue_is_in_the_readiness_check(app):
    answer = app.test_client().get("/readyz").get_json()
    assert answer["checks"]["queue"] == "ok"


def test_an_unreachable_redis_fails_the_readiness_check(db_url, tmp_path):
    broken = create_app(TestConfig({"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / "i"),
                                    "CRM_UPLOAD_DIR": str(tmp_path / "u"), "CRM_REDIS_URL": "redis://127.0.0.1:1/0"}))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["checks"]["queue"] == "failed"


def test_the_queue_storage_follows_the_configuration(tmp_path):
    from huey import RedisHuey, SqliteHuey
    from crm.jobs.queue import make_huey
    assert isinstance(make_huey({"JOBS_DB": str(tmp_path / "jobs.db")}), SqliteHuey)
    assert isinstance(make_huey({"JOBS_DB": "x", "REDIS_URL": REDIS}), RedisHuey)
    config = TestConfig({"CRM_INSTANCE_DIR": str(tmp_path)})
    assert config.JOBS_DB == str(tmp_path / "jobs.db") and config.REDIS_URL == ""


def test_a_lost_wake_up_call_is_sent_again(app, people):
    job = submit(app, "test_hello", {"who": "赵六"}, people["zhang"])
    queue(app).huey.flush()  # e.g. Redis restarted without its data
    with app.app_context():
        assert services.sweep()["resent"] == 0  # just submitted: give it its minute
        assert services.sweep(utcnow() + timedelta(minutes=2))["resent"] == 1
        assert services.sweep(utcnow() + timedelta(minutes=2))["resent"] == 0  # one call waits now
    queue(app).drain()
    assert row(app, job.id).state == "done"


def test_a_stopping_worker_puts_its_running_job_back_in_the_queue(app, people):
    job = submit(app, "test_hello", {"who": "张三"}, people["zhang"])
    GATE.update(reached=threading.Event(), go=threading.Event())
    worker = threading.Thread(target=queue(app).drain)
    worker.start()
    try:
        assert GATE["reached"].wait(30)
        with app.app_context():
            assert services.release_held() == [job.id]  # what the consumer's shutdown calls
        back = row(app, job.id)
        assert back.state == "queued" and back.attempts == 0 and back.lease == ""
    finally:
        GATE["go"].set()
        worker.join(30)
    # The stopped run's next report found its lease gone and stopped without a result; the job,
    # sent again, ran from the start (here the same drain took it) and kept one result.
    assert row(app, job.id).state == "done" and len(CALLS) == 2
    with app.app_context():
        assert list(storage.current().keys(services.RESULTS)) == [services.result_key(row(app, job.id).result_path)]


def _rows_of(data):
    return [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("path, title", [("/visits/export.xlsx", "走访台账"), ("/followups/export.xlsx", "跟进任务"),
                                         ("/members/export.xlsx", "会员")])
def test_the_other_ledgers_big_exports_are_jobs_replaying_the_export_as_its_user(app, people, make, path, title):
    from crm.audit.models import AuditEvent
    from crm.members.models import Member
    other_town = make.org("乙镇总工会", parent=people["root"])
    outsider = make.user("staff", org=other_town, username="wang", name="王五")
    for unit, user, n in ((people["town"], people["zhang"], 3), (other_town, outsider, 1)):
        for i in range(n):
            ent = make.enterprise(org=unit, user=user, name=f"{unit.name}企业{i}")
            make.visit(ent, user)
            make.followup(user, ent, assignee=user, title=f"回访{i}")
            with app.app_context():
                Member.create(name=f"{unit.name}会员{i}", group="courier", org_unit=unit, state="active")
    client = login_as(app.test_client(), people["zhang"])
    offer = client.get(path)
    assert offer.status_code == 200 and "在后台生成" in offer.get_data(as_text=True), offer.status_code
    resp = client.post(path, data={"csrf_token": csrf_token(client, "/jobs/")})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    queue(app).drain()
    with app.app_context():
        job = Job.get()
    assert job.kind == "ledger_export" and job.state == "done", job.error
    resp = client.get(f"/jobs/{job.id}/download")
    assert resp.mimetype.endswith("spreadsheetml.sheet") and title in unquote(resp.headers["Content-Disposition"])
    rows = _rows_of(resp.data)
    assert len(rows) == 3 and "乙镇" not in json.dumps(rows, ensure_ascii=False, default=str)  # the user's scope
    with app.app_context():
        event = AuditEvent.select().where(AuditEvent.kind == "export").order_by(AuditEvent.id.desc()).get()
    assert event.username == "zhang" and "3 行" in event.detail


def test_a_replayed_export_out_of_scope_fails_with_its_reason(app, people, make):
    other_town = make.org("乙镇总工会", parent=people["root"])
    job = submit(app, "ledger_export", {"endpoint": "admin.users_export", "query": ""}, people["zhang"])
    queue(app).drain()
    failed = row(app, job.id)
    assert failed.state == "failed" and failed.error.startswith("没有权限导出"), failed.error
    job = submit(app, "ledger_export", {"endpoint": "jobs.retry", "query": ""}, people["zhang"])
    queue(app).drain()
    assert row(app, job.id).error == "未知的导出"
    assert other_town


# ---- the processes --------------------------------------------------------------------------------

CRM = [sys.executable, "-c", "from crm.cli import main; main()"]


def _process_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_INSTANCE_DIR=str(tmp_path / "proc"), CRM_DATABASE_URL=f"sqlite:///{tmp_path / 'proc' / 'crm.db'}",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return env


def _read_until(proc, text, limit=200):
    lines = []
    for _ in range(limit):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return "".join(lines)
    raise AssertionError("".join(lines))


def _children(pid) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def test_serve_starts_a_worker_beside_gunicorn_and_stops_it_on_sigterm(tmp_path):
    env = _process_env(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(CRM + ["serve", "--port", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _read_until(proc, "后台任务进程已启动")  # the worker's own line (it reads the queue)
        workers = [c for c in _children(proc.pid)
                   if "worker" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace").split("\0")]
        assert len(workers) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not Path(f"/proc/{workers[0]}").exists() or \
            Path(f"/proc/{workers[0]}/stat").read_text().split()[2] == "Z"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_no_worker_starts_none(tmp_path):
    env = _process_env(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(CRM + ["serve", "--port", str(port), "--workers", "1", "--no-worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = _read_until(proc, "Ctrl+C")
        assert "后台任务进程已同时启动" not in output
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_worker_stops_cleanly_on_sigterm_and_on_ctrl_c(tmp_path):
    env = _process_env(tmp_path)
    assert subprocess.run(CRM + ["db", "upgrade"], env=env, capture_output=True).returncode == 0
    for stop in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen(CRM + ["worker", "--workers", "2"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            _read_until(proc, "后台任务进程已启动：2 个线程，队列在 SQLite")
            proc.send_signal(stop)
            assert proc.wait(30) == 0
            assert "后台任务进程已停止" in proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

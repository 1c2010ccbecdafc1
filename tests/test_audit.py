"""The audit log: every kind of event is written with its user and client address; only admins
read it; it exports; it is kept for CRM_AUDIT_DAYS."""
import io
from datetime import timedelta

from openpyxl import load_workbook

from crm.audit.models import AuditEvent
from crm.common.timeutil import utcnow
from tests.conftest import csrf_token, login_as, login_form


def _events(kind):
    return list(AuditEvent.select().where(AuditEvent.kind == kind).order_by(AuditEvent.id))


def test_every_kind_of_event_is_logged_with_user_and_address(app, make, tmp_path):
    org = make.org("瀛海镇总工会")
    admin = make.user("admin", username="admin1")
    staff = make.user("staff", org=org, username="lijw")
    viewer = make.user("viewer", org=org, username="leader")
    other = make.enterprise(org=make.org("庞各庄镇总工会"))
    ent = make.enterprise(org=org, name="京东物流瀛海站", contact={"name": "王经理", "phone": "13811112222"})
    client = app.test_client()
    # Sign-ins: a success, failures, a lockout.
    assert login_form(client, "lijw").status_code == 302
    for _ in range(5):
        login_form(app.test_client(), "leader", "wrong-password-x")
    login_form(app.test_client(), "leader", "wrong-password-x")
    ok = _events("login_ok")[-1]
    assert ok.user_id == staff.id and ok.address == "127.0.0.1"
    assert len(_events("login_failed")) == 5 and _events("login_failed")[0].username == "leader"
    assert any("锁定" in e.detail for e in _events("lockout"))
    # Denied: a record out of scope (404) and an action not allowed (403).
    assert client.get(f"/enterprises/{other.id}").status_code == 404
    assert client.get("/imports/").status_code == 403
    denied = _events("denied")
    assert {(e.target_kind, e.target_id) for e in denied} >= {("enterprise", other.id)}
    assert all(e.user_id == staff.id and e.address == "127.0.0.1" for e in denied)
    # A full phone number read on the file.
    assert "13811112222" in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    read = _events("phone_read")[-1]
    assert (read.user_id, read.target_kind, read.target_id) == (staff.id, "enterprise", ent.id) and "王经理" in read.detail
    # An export of personal data, with its filter and its size.
    assert client.get("/enterprises/export.xlsx?q=京东").status_code == 200
    export = _events("export")[-1]
    assert export.user_id == staff.id and "企业台账：1 行" in export.detail and "q=" in export.detail
    # A role and scope change by an admin.
    admin_client = login_as(app.test_client(), admin)
    path = f"/admin/users/{viewer.id}/edit"
    token = csrf_token(admin_client, path)
    admin_client.post(path, data={"csrf_token": token, "name": viewer.name, "role": "supervisor",
                                  "org_unit": str(org.id), "active": "y"})
    change = _events("role_change")[-1]
    assert change.user_id == admin.id and change.target_id == viewer.id and "领导 → 主管" in change.detail
    # An import, a backup, a restore (the last two from the command line).
    from crm.imports.models import ImportBatch
    with app.app_context():
        batch = ImportBatch.create(file_name="台账.xlsx", stored_path=str(tmp_path / "x.xlsx"), user=admin,
                                   created_at=utcnow(), status="failed")
        from crm.audit import services as audit
        audit.record("import", user=admin, target=("import_batch", batch.id), detail="台账.xlsx")
    assert _events("import")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert _events("backup")[-1].username == "命令行"


def test_the_log_is_for_admins_and_exports(app, make):
    admin = make.user("admin")
    supervisor = make.user("supervisor")
    login_form(app.test_client(), supervisor.username, "wrong-password-x")
    assert login_as(app.test_client(), supervisor).get("/admin/audit/").status_code == 403
    client = login_as(app.test_client(), admin)
    page = client.get("/admin/audit/?kind=login_failed").get_data(as_text=True)
    assert "登录失败" in page and supervisor.username in page
    resp = client.get("/admin/audit/export.xlsx?kind=login_failed")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "事件", "用户") and any(r[2] == supervisor.username for r in rows[1:])


def test_a_files_phone_reads_are_listed_for_admins(app, make):
    admin = make.user("admin")
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    ent = make.enterprise(org=org, contact={"name": "李主任", "phone": "13900001111"})
    login_as(app.test_client(), staff).get(f"/enterprises/{ent.id}")
    client = login_as(app.test_client(), admin)
    assert "谁看过这份档案的电话" in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    page = client.get(f"/admin/audit/?target=enterprise:{ent.id}&kind=phone_read").get_data(as_text=True)
    assert staff.username in page and "李主任" in page


def test_old_events_are_purged(app, make):
    from crm.audit import services as audit
    with app.app_context():
        audit.record("backup", username="命令行", detail="旧的")
        AuditEvent.update(at=utcnow() - timedelta(days=app.config["AUDIT_DAYS"] + 1)).execute()
        audit.record("backup", username="命令行", detail="新的")
        assert audit.purge() == 1
    assert [e.detail for e in AuditEvent.select()] == ["新的"]


def test_behind_a_proxy_the_clients_address_is_logged(db_url, tmp_path, make):
    from config import TestConfig
    from crm import create_app
    app = create_app(TestConfig({"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / "i"),
                                 "CRM_PROXIES": "1"}))
    make.user("staff", username="proxied")
    client = app.test_client()
    token = csrf_token(client, "/login")
    client.post("/login", data={"username": "proxied", "password": "wrong-password-x", "csrf_token": token},
                headers={"X-Forwarded-For": "203.0.113.7"})
    assert _events("login_failed")[-1].address == "203.0.113.7"

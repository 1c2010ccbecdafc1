"""推送接口: signed webhooks per org unit, queued in the writing transaction, delivered by
deliver_due() to a real receiver on 127.0.0.1, retried with backoff, claimed once per delivery."""
import hashlib
import hmac
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm.audit.models import AuditEvent
from crm.common import signals
from crm.common.timeutil import local_today, utcnow
from crm.db import db
from crm.followups import services as followups
from crm.followups.models import FollowUp
from crm.founding import services as founding
from crm.members import links
from crm.members.models import Member
from crm.sync.services import new_form_key
from crm.visits import services as visits
from crm.webhooks import services
from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import csrf_token, login_as, post_form

PHONE = "13800001234"


class Receiver:
    """An HTTP server on 127.0.0.1 (port 0) that keeps what it is sent and answers `status`."""

    def __init__(self):
        self.status, self.answer = 200, b"ok"
        self.received = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.received.append({"path": self.path, "headers": self.headers, "body": body})
                outer.arrived.set()
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(outer.answer)))
                self.end_headers()
                self.wfile.write(outer.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/crm-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [json.loads(r["body"]) for r in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def world(make):
    town = make.org("高米店街道总工会")
    station = make.org("高米店第一服务站", "station", town)
    other = make.org("瀛海镇总工会")
    return {"town": town, "station": station, "other": other, "admin": make.user("admin"),
            "staff": make.user("staff", station), "supervisor": make.user("supervisor", town),
            "outsider": make.user("staff", other),
            "firm": make.enterprise(org=station, name="京东物流高米店站", contact={"name": "王经理", "phone": PHONE},
                                    initial_stage="contacted"),  # a first visit would move it there
            "far": make.enterprise(org=other, name="瀛海物业")}


def endpoint(app, admin, unit, url, events=None, fmt="json"):
    with app.app_context():
        return services.create_endpoint(admin, name="智慧工会平台", org_unit=unit, url=url,
                                        events_keys=events or EVENTS.keys(), fmt=fmt)


def deliver(app, now=None):
    with app.app_context():
        return services.deliver_due(now)


def rows(event=None):
    query = WebhookDelivery.select().order_by(WebhookDelivery.id)
    return list(query.where(WebhookDelivery.event == event) if event else query)


def signature(secret, request):
    mac = hmac.new(secret.encode(), request["headers"]["X-CRM-Timestamp"].encode() + b"." + request["body"],
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# ---- delivery ---------------------------------------------------------------------------------------

def test_a_visit_below_the_unit_arrives_signed(app, make, world, receiver):
    hook, secret = endpoint(app, world["admin"], world["town"], receiver.url)
    visit = make.visit(world["firm"], world["staff"])
    assert deliver(app) == 1
    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/crm-events" and headers["Content-Type"].startswith("application/json")
    assert headers["X-CRM-Event"] == "visit.created"
    assert re.fullmatch(r"\d{10}", headers["X-CRM-Timestamp"])
    assert hmac.compare_digest(headers["X-CRM-Signature"], signature(secret, request))
    assert not hmac.compare_digest(headers["X-CRM-Signature"], signature("另一个密钥", request))
    envelope = json.loads(body)
    [row] = rows()
    assert envelope["id"] == headers["X-CRM-Delivery"] == row.event_id
    assert envelope["event"] == "visit.created" and envelope["occurred_at"].endswith("Z")
    assert envelope["org_unit"] == {"id": world["station"].id, "name": "高米店第一服务站"}
    assert envelope["data"] == {"id": visit.id, "visited_on": local_today().isoformat(), "kind": "door",
                                "kind_label": "上门走访",
                                "enterprise": {"id": world["firm"].id, "name": "京东物流高米店站"}}
    assert PHONE.encode() not in body and "王经理".encode() not in body
    row = WebhookDelivery.get_by_id(row.id)
    assert (row.status, row.attempts, row.last_status_code, row.delivered_at is not None) == ("delivered", 1, 200, True)
    assert deliver(app) == 0 and len(receiver.received) == 1  # sent once


def test_an_event_no_endpoint_takes_is_not_built(app, make, world, receiver, monkeypatch):
    """With no endpoint taking visits, a visit saved builds no envelope (its queries are spared on
    every write); with one, it does."""
    from crm.webhooks import events
    built = []
    real = events.visits
    monkeypatch.setattr(events, "visits", lambda record: built.append(record.id) or real(record))
    endpoint(app, world["admin"], world["town"], receiver.url, events=["meeting.created"])
    make.visit(world["firm"], world["staff"])
    assert built == [] and rows() == []
    endpoint(app, world["admin"], world["town"], receiver.url, events=["visit.created"])
    visit = make.visit(world["firm"], world["staff"])
    assert built == [visit.id] and [r.event for r in rows()] == ["visit.created"]


def test_another_units_events_never_arrive(app, make, world, receiver):
    endpoint(app, world["admin"], world["station"], receiver.url)
    endpoint(app, world["admin"], world["other"], receiver.url, events=["meeting.created"])  # not visits
    make.visit(world["far"], world["outsider"])  # 瀛海: neither the station's nor a visit endpoint's
    above = make.enterprise(org=world["town"], name="高米店商场", initial_stage="contacted")
    make.visit(above, world["supervisor"])  # the town above the station: not the station's either
    assert rows() == []
    assert deliver(app) == 0 and receiver.received == []


def test_a_rolled_back_write_queues_nothing(app, world, receiver):
    endpoint(app, world["admin"], world["town"], receiver.url)
    values = {"visited_on": local_today(), "kind": "door", "purposes": [], "summary": "走访",
              "visitor_ids": [world["staff"].id]}
    with app.app_context(), pytest.raises(RuntimeError):
        with db.atomic():
            visits.create_visit(world["firm"], values, world["staff"], new_form_key(), {world["staff"].id})
            assert len(rows("visit.created")) == 1  # queued in the write's transaction …
            raise RuntimeError("the write fails after its signal")
    assert rows() == []  # … and gone with it
    assert deliver(app) == 0 and receiver.received == []


def test_a_failing_receiver_is_retried_with_backoff_then_failed_and_resent(app, client, world, receiver):
    receiver.status = 500
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    with app.app_context():
        services.send_test(world["admin"], hook)
    [row] = rows("ping")
    now = utcnow()
    assert deliver(app, now) == 1
    row = WebhookDelivery.get_by_id(row.id)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error == "接收方返回 HTTP 500"
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert deliver(app, now + timedelta(seconds=30)) == 0  # not due yet
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12)]
    for n, wait in enumerate(waits, start=2):
        now += wait
        assert deliver(app, now) == 1
        row = WebhookDelivery.get_by_id(row.id)
        assert row.attempts == n
        if n < 6:
            assert row.status == "pending" and row.next_attempt_at == now + waits[n - 1]
    assert (row.status, row.attempts, row.last_error) == ("failed", 6, "接收方返回 HTTP 500")
    assert deliver(app, now + timedelta(days=3)) == 0
    assert len(receiver.received) == 6 and {r["headers"]["X-CRM-Delivery"] for r in receiver.received} == {row.event_id}
    # 重新发送 on the endpoint's page: pending again, delivered once the receiver is back.
    login_as(client, world["admin"])
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "发送失败" in page and "接收方返回 HTTP 500" in page and "重新发送" in page
    resp = post_form(client, f"/admin/webhooks/deliveries/{row.id}/resend", {}, token_from=f"/admin/webhooks/{hook.id}")
    assert resp.status_code == 302
    receiver.status = 204
    assert deliver(app) == 1
    row = WebhookDelivery.get_by_id(row.id)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 1, 204, "")
    assert AuditEvent.select().where(AuditEvent.kind == "webhook", AuditEvent.detail.contains("重新发送")).count() == 1


def test_an_unreachable_receiver_and_a_redirect_are_failures_with_their_reason(app, world, receiver):
    receiver.status = 302
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    gone, _ = endpoint(app, world["admin"], world["town"], "http://127.0.0.1:9/nobody-listens")
    with app.app_context():
        services.send_test(world["admin"], hook)
        services.send_test(world["admin"], gone)
    assert deliver(app) == 2
    redirected, refused = rows("ping")
    assert "重定向" in redirected.last_error and redirected.last_status_code == 302 and redirected.status == "pending"
    assert len(receiver.received) == 1  # the redirect's target was never asked
    assert refused.last_status_code is None and "连接" in refused.last_error and refused.attempts == 1


def test_the_wecom_format_sends_a_robot_markdown_message(app, world, receiver):
    hook, secret = endpoint(app, world["admin"], world["town"], receiver.url, events=["enterprise.stage_changed"],
                            fmt="wecom")
    receiver.answer = b'{"errcode":0,"errmsg":"ok"}'
    with app.app_context():
        founding.move(world["firm"], "willing", world["staff"], expected_from="contacted")
    assert deliver(app) == 1
    [request] = receiver.received
    message = json.loads(request["body"])
    assert message["msgtype"] == "markdown" and set(message) == {"msgtype", "markdown"}
    content = message["markdown"]["content"]
    assert content.startswith("**建会进度变更**")
    assert "京东物流高米店站" in content and "已走访宣传 → 有建会意向" in content and "高米店第一服务站" in content
    assert hmac.compare_digest(request["headers"]["X-CRM-Signature"], signature(secret, request))
    assert rows()[0].status == "delivered"
    # The robot refuses with 200 and an errcode: not delivered, its reason kept.
    receiver.answer = '{"errcode":93000,"errmsg":"invalid webhook url"}'.encode()
    with app.app_context():
        services.send_test(world["admin"], hook)
    assert deliver(app) == 1
    ping = rows("ping")[0]
    assert ping.status == "pending" and ping.last_error == "企业微信返回错误 93000：invalid webhook url"
    assert "测试消息" in json.loads(receiver.received[-1]["body"])["markdown"]["content"]


def test_two_rounds_at_once_send_each_delivery_once(app, world, receiver):
    hooks = [endpoint(app, world["admin"], world["town"], receiver.url)[0] for _ in range(3)]
    with app.app_context():
        for _ in range(8):
            for hook in hooks:
                services.send_test(world["admin"], hook)
    queued = {r.event_id for r in rows()}
    assert len(queued) == 24
    start, results, errors = threading.Barrier(2), [], []

    def round_():
        try:
            start.wait()
            results.append(deliver(app))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=round_) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and sum(results) == 24
    sent = [r["headers"]["X-CRM-Delivery"] for r in receiver.received]
    assert sorted(sent) == sorted(queued)  # every one, none twice
    assert {r.status for r in rows()} == {"delivered"} and {r.attempts for r in rows()} == {1}


def test_crm_webhooks_deliver_runs_one_round_and_old_delivered_rows_go(app, world, receiver):
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    with app.app_context():
        for _ in range(2):
            services.send_test(world["admin"], hook)
    old, failed = rows("ping")
    WebhookDelivery.update(status="delivered", next_attempt_at=utcnow() - timedelta(days=31)).where(
        WebhookDelivery.id == old.id).execute()
    WebhookDelivery.update(status="failed", next_attempt_at=utcnow() - timedelta(days=90)).where(
        WebhookDelivery.id == failed.id).execute()
    with app.app_context():
        services.send_test(world["admin"], hook)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "本轮发送 1 条推送" in result.output and "仍待发送（含等待重试）0 条" in result.output and "已送达的记录 1 条" in result.output
    assert len(receiver.received) == 1
    # The delivered row of a month ago is gone; the failed one and today's stay.
    assert [(r.id, r.status) for r in rows()] == [(failed.id, "failed"), (failed.id + 1, "delivered")]


# ---- the six events ---------------------------------------------------------------------------------

def test_each_event_queues_its_payload(app, client, make, world, receiver):
    town, station = world["town"], world["station"]
    hook, _ = endpoint(app, world["admin"], town, receiver.url)
    firm = world["firm"]
    visit = make.visit(firm, world["staff"])
    meeting = make.meeting(world["admin"], ents=[firm, world["far"]], org_unit=station.id, kind="staff")
    task = make.followup(world["supervisor"], firm, assignee=world["staff"], title="回访建会意向")
    with app.app_context():
        followups.update(world["supervisor"], task, {"title": task.title, "due_on": task.due_on,
                                                     "priority": "high", "assignee": world["supervisor"]},
                         task.version)
        with db.atomic():
            signals.followups_overdue.send("followup", followups=[FollowUp.get_by_id(task.id)])
        event = founding.move(firm, "willing", world["staff"], expected_from="contacted")
    sign_up(app, meeting)
    member = Member.get()
    got = {}
    for row in rows():
        got.setdefault(row.event, []).append(json.loads(row.payload))
    assert set(got) == set(EVENTS.keys())
    station_ref = {"id": station.id, "name": "高米店第一服务站"}
    firm_ref = {"id": firm.id, "name": "京东物流高米店站"}
    assert [e["data"] for e in got["visit.created"]] == [
        {"id": visit.id, "visited_on": local_today().isoformat(), "kind": "door", "kind_label": "上门走访",
         "enterprise": firm_ref}]
    # The meeting names the enterprises the town may see, not 瀛海's.
    [m] = got["meeting.created"]
    assert m["org_unit"] == station_ref and m["data"] == {
        "id": meeting.id, "held_on": local_today().isoformat(), "kind": "staff", "kind_label": "职工沟通会",
        "enterprises": [firm_ref]}
    due = task.due_on.isoformat()
    assigned, reassigned = got["followup.assigned"]
    assert assigned["data"] == {"id": task.id, "title": "回访建会意向", "due_on": due, "priority": "medium",
                                "priority_label": "中", "assignee_id": world["staff"].id, "enterprise": firm_ref,
                                "previous_assignee_id": None}
    assert reassigned["data"]["assignee_id"] == world["supervisor"].id
    assert reassigned["data"]["previous_assignee_id"] == world["staff"].id and reassigned["data"]["priority"] == "high"
    [overdue] = got["followup.overdue"]
    assert overdue["data"]["id"] == task.id and overdue["data"]["title"] == "回访建会意向"
    assert "previous_assignee_id" not in overdue["data"] and overdue["org_unit"] == station_ref
    [moved] = got["enterprise.stage_changed"]
    assert moved["data"] == {"enterprise": firm_ref, "from_stage": {"key": "contacted", "label": "已走访宣传"},
                             "to_stage": {"key": "willing", "label": "有建会意向"},
                             "occurred_on": local_today().isoformat(), "founding_event_id": event.id}
    [joined] = got["member.joined"]
    assert joined["org_unit"] == station_ref and joined["data"] == {
        "member_id": member.id, "group": "rider", "group_label": "外卖送餐员", "joined_on": local_today().isoformat()}
    text = "".join(r.payload for r in rows())
    assert "13911112222" not in text and "王师傅" not in text and PHONE not in text and "王经理" not in text
    for envelope in (e for events in got.values() for e in events):
        assert set(envelope) == {"id", "event", "occurred_at", "org_unit", "data"}
    # All of them arrive, each under its own event name.
    assert deliver(app) == len(rows())
    assert sorted(r["headers"]["X-CRM-Event"] for r in receiver.received) == sorted(r.event for r in rows())


def sign_up(app, meeting):
    """A worker signs up by the meeting's QR link (tests/test_signups.py): a new member."""
    with app.test_request_context():
        token = links.token_for("meeting", meeting)
    client = app.test_client()
    page = client.get(f"/join/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post(f"/join/{token}", data={"csrf_token": csrf, "name": "王师傅", "phone": "13911112222",
                                               "group": "rider", "platform": "meituan", "station": "美团高米店站",
                                               "consent": "y"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]


def test_an_inactive_endpoint_or_an_event_not_chosen_queues_nothing(app, make, world, receiver):
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url, events=["member.joined"])
    make.visit(world["firm"], world["staff"])
    with app.app_context():
        services.set_active(world["admin"], hook, False)
        services.update_endpoint(world["admin"], WebhookEndpoint.get_by_id(hook.id), name="平台",
                                 org_unit=world["town"], url=receiver.url, events_keys=["visit.created"], fmt="json")
    make.visit(world["firm"], world["staff"])
    assert rows() == []


# ---- the pages --------------------------------------------------------------------------------------

def test_only_admins_reach_the_pages(app, world, receiver):
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    for role in ("supervisor", "staff"):
        client = login_as(app.test_client(), world[role])
        token = csrf_token(client, "/")
        for path in ("/admin/webhooks/", "/admin/webhooks/new", f"/admin/webhooks/{hook.id}",
                     f"/admin/webhooks/{hook.id}/edit"):
            assert client.get(path).status_code == 403, (role, path)
        for path in ("/admin/webhooks/new", f"/admin/webhooks/{hook.id}/test", f"/admin/webhooks/{hook.id}/secret",
                     f"/admin/webhooks/{hook.id}/deactivate"):
            assert client.post(path, data={"csrf_token": token, "name": "x", "url": receiver.url}).status_code == 403
        assert "推送接口" not in client.get("/").get_data(as_text=True)
    assert WebhookEndpoint.get_by_id(hook.id).active and rows() == []
    admin = login_as(app.test_client(), world["admin"])
    assert admin.get("/admin/webhooks/").status_code == 200
    assert 'href="/admin/webhooks/"' in admin.get("/").get_data(as_text=True)  # in the 系统管理 menu
    assert admin.get("/admin/webhooks/999999").status_code == 404


def _new(client, **data):
    form = {"name": "区工作群", "org_unit": data.pop("org_unit"), "url": "https://example.com/hook",
            "events": ["visit.created", "member.joined"], "format": "json", **data}
    return post_form(client, "/admin/webhooks/new", form)


def _field_message(html, field):
    """The messages beside a field (its invalid-feedback blocks)."""
    start = html.index(f'name="{field}"')
    block = html[start:html.index("</div>\n", html.index("invalid-feedback", start)) + 6]
    return re.findall(r'invalid-feedback[^>]*>([^<]+)<', block)


@pytest.mark.parametrize("url, message", [
    ("http://example.com/hook", "接收地址必须以 https:// 开头"),
    ("ftp://example.com/hook", "接收地址应以 https:// 开头"),
    ("example.com/hook", "接收地址应以 https:// 开头"),
    ("https://user:secret@example.com/hook", "接收地址不能包含用户名或密码"),
    ("https://例子.中国/hook", "接收地址不能包含空格或中文等字符"),
    ("https://example.com:99999/hook", "接收地址格式不正确"),
    ("https:///hook", "接收地址缺少主机名"),
    ("https://" + "a" * 600, "接收地址不能超过 500 个字符"),
])
def test_a_bad_address_gets_its_chinese_message_beside_the_field(app, world, url, message):
    client = login_as(app.test_client(), world["admin"])
    resp = _new(client, org_unit=world["town"].id, url=url)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert any(m.startswith(message) for m in _field_message(html, "url")), _field_message(html, "url")
    assert 'value="区工作群"' in html  # what was typed stays
    assert WebhookEndpoint.select().count() == 0


def test_loopback_only_when_allowed_and_the_robot_needs_its_address(app, world):
    client = login_as(app.test_client(), world["admin"])
    html = _new(client, org_unit=world["town"].id, url="https://example.com/robot", format="wecom").get_data(as_text=True)
    assert _field_message(html, "url")[0].startswith("企业微信群机器人的地址应为 https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
    assert _new(client, org_unit=world["town"].id, url="http://[::1]:8080/x").status_code == 200  # allowed in tests
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x"):
        html = _new(client, org_unit=world["town"].id, url=url).get_data(as_text=True)
        assert _field_message(html, "url") == ["接收地址必须以 https:// 开头，不能用不加密的 http://"]
    html = _new(client, org_unit=world["town"].id, url="x", events=[]).get_data(as_text=True)
    assert _field_message(html, "events") == ["请至少选择一个事件"]
    assert WebhookEndpoint.select().count() == 1


def test_an_admin_registers_edits_tests_and_retires_an_endpoint(app, world):
    client = login_as(app.test_client(), world["admin"])
    page = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert "高米店第一服务站" in page and "新会员入会" in page and "企业微信群机器人" in page
    resp = _new(client, org_unit=world["station"].id, url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
                format="wecom")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    hook = WebhookEndpoint.get()
    shown = re.search(r'id="webhook-secret">([0-9a-f]+)<', resp.get_data(as_text=True)).group(1)
    assert shown == hook.secret and len(shown) == 64
    assert (hook.org_unit_id, hook.format, hook.event_keys) == (world["station"].id, "wecom", ["visit.created", "member.joined"])
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert hook.secret not in page and hook.secret[:4] + "••••" in page
    assert hook.name in client.get("/admin/webhooks/").get_data(as_text=True)
    # Edit: the form opens with what is saved.
    edit = client.get(f"/admin/webhooks/{hook.id}/edit").get_data(as_text=True)
    assert 'value="区工作群"' in edit and re.search(r'value="member.joined"[^>]*checked', edit)
    resp = post_form(client, f"/admin/webhooks/{hook.id}/edit",
                     {"name": "站点工作群", "org_unit": world["town"].id, "url": hook.url, "format": "wecom",
                      "events": ["followup.overdue"]})
    assert resp.status_code == 302
    hook = WebhookEndpoint.get_by_id(hook.id)
    assert (hook.name, hook.org_unit_id, hook.event_keys) == ("站点工作群", world["town"].id, ["followup.overdue"])
    # 重新生成密钥: shown once, the old one void.
    resp = post_form(client, f"/admin/webhooks/{hook.id}/secret", {}, token_from=f"/admin/webhooks/{hook.id}")
    fresh = re.search(r'id="webhook-secret">([0-9a-f]+)<', resp.get_data(as_text=True)).group(1)
    assert fresh == WebhookEndpoint.get_by_id(hook.id).secret != shown
    # 发送测试 queues a ping for this endpoint; the page lists it.
    assert post_form(client, f"/admin/webhooks/{hook.id}/test", {}, token_from=f"/admin/webhooks/{hook.id}").status_code == 302
    [ping] = rows("ping")
    assert ping.endpoint_id == hook.id and json.loads(ping.payload)["data"]["endpoint_id"] == hook.id
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert f'id="delivery-{ping.id}"' in page and "待发送" in page and "测试消息" in page
    assert client.get(f"/admin/webhooks/{hook.id}?status=failed").get_data(as_text=True).count('id="delivery-') == 0
    # 停用
    assert post_form(client, f"/admin/webhooks/{hook.id}/deactivate", {}, token_from=f"/admin/webhooks/{hook.id}").status_code == 302
    assert not WebhookEndpoint.get_by_id(hook.id).active
    details = [e.detail for e in AuditEvent.select().where(AuditEvent.kind == "webhook").order_by(AuditEvent.id)]
    assert [d[:4] for d in details] == ["新建推送", "修改推送", "重新生成", "向推送接", "停用推送"]
    assert "名称 区工作群 → 站点工作群" in details[1] and "单位 高米店第一服务站 → 高米店街道总工会" in details[1]
    assert fresh not in "".join(details) and shown not in "".join(details)

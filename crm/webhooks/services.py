"""推送接口: the endpoints an admin keeps, the outbox the writes fill, and the delivery round.

The outbox: the receivers below run inside the transaction of the write that sent the signal and
add one WebhookDelivery row per endpoint that may read the event (an endpoint of unit U gets the
events of U and the units below it). Nothing is sent from inside that transaction; a write rolled
back takes its rows with it. A queued row marks the request (flask.g) and the web layer pokes the
deliveries task of the job queue once the request is over (crm.webhooks.views); `crm worker` also
runs it every minute (retries, rows queued outside a request) and the purge every hour.

The round: deliver_due() claims each due row with one UPDATE ... WHERE status = 'pending' and its
lease free (`claimed_until`), checks that it changed one row, then sends it outside any
transaction, so two processes never send the same row; a process that dies while sending leaves
the row to be claimed again when the lease ends. A 2xx answer delivers it; anything else retries it
after 1 min, 5 min, 30 min, 2 h and 12 h, and the sixth failure marks it failed with its reason.
"""
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context
from peewee import fn

from crm.audit import services as audit
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import now as clock
from crm.common.timeutil import utcnow
from crm.db import db
from crm.jobs import registry
from crm.org.models import OrgUnit
from crm.webhooks import events
from crm.webhooks.events import EVENTS, PING
from crm.webhooks.models import FORMATS, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("crm.webhooks")
TIMEOUT = 5  # seconds a receiver has to answer
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)  # a claimed row is another round's again after this (a crashed sender)
BATCH = 50
KEEP_DELIVERED = timedelta(days=30)  # delivered rows are deleted after this; failed ones stay
URL_MAX = 500
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
WECOM_HOST = "qyapi.weixin.qq.com"
WECOM_EXAMPLE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"


# ---- the address ---------------------------------------------------------------------------------

def allow_loopback() -> bool:
    return bool(has_app_context() and current_app.config.get("WEBHOOK_ALLOW_LOOPBACK"))


def _is_loopback(host: str) -> bool:
    return host.lower() in LOOPBACK_HOSTS


def url_problem(url: str, fmt: str = "json", loopback: bool | None = None) -> str | None:
    """Why this receiver address is refused (Chinese), or None. https:// only; http:// to this
    machine (127.0.0.1, localhost, [::1]) when WEBHOOK_ALLOW_LOOPBACK is set."""
    loopback = allow_loopback() if loopback is None else loopback
    if not url:
        return "请填写接收地址"
    if len(url) > URL_MAX:
        return f"接收地址不能超过 {URL_MAX} 个字符"
    if any(c.isspace() or ord(c) < 32 or ord(c) > 126 for c in url):
        return "接收地址不能包含空格或中文等字符，请复制完整的网址（中文请先转码）"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError:
        return "接收地址格式不正确（端口或主机名有误）"
    scheme = parts.scheme.lower()
    allowed = "https:// 开头" + ("（本机测试可用 http://127.0.0.1、http://localhost 或 http://[::1]）"
                                 if loopback else "")
    if scheme not in ("https", "http"):
        return f"接收地址应以 {allowed}"
    if parts.username is not None or parts.password is not None:
        return "接收地址不能包含用户名或密码"
    if not host:
        return "接收地址缺少主机名，例如 https://example.com/crm-events"
    if scheme == "http" and not (loopback and _is_loopback(host)):
        return f"接收地址必须以 {allowed}，不能用不加密的 http://"
    if fmt == "wecom" and host.lower() != WECOM_HOST and not (loopback and _is_loopback(host)):
        return f"企业微信群机器人的地址应为 {WECOM_EXAMPLE}（在群机器人的设置中复制）"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(label and len(label) <= 63 for label in host.rstrip(".").split(".")):
            return "接收地址的主机名不正确"
    return None


def _clean_events(keys) -> str:
    keys = [k for k in dict.fromkeys(keys or []) if k in EVENTS]
    if not keys:
        raise ServiceError("请至少选择一个事件", "events")
    return "," + ",".join(keys) + ","


def _check(name, org_unit, url, keys, fmt):
    name = clean(name)
    if not name:
        raise ServiceError("请填写名称", "name")
    if len(name) > 100:
        raise ServiceError("名称不能超过 100 个字", "name")
    if org_unit is None:
        raise ServiceError("请选择所属单位", "org_unit")
    if fmt not in FORMATS:
        raise ServiceError("请选择消息格式", "format")
    url = (url or "").strip()
    problem = url_problem(url, fmt)
    if problem:
        raise ServiceError(problem, "url")
    return name, url, _clean_events(keys)


def _event_labels(value: str) -> str:
    return "、".join(EVENTS.label(k) for k in value.split(",") if k)


def new_secret() -> str:
    return secrets.token_hex(32)


def _secret_hint(secret: str) -> str:
    return secret[:4] + "…" if secret else ""


# ---- the endpoints (an admin's writes, each in the audit log) --------------------------------------

def create_endpoint(user, *, name, org_unit: OrgUnit, url, events_keys, fmt) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown to the admin this once)."""
    name, url, keys = _check(name, org_unit, url, events_keys, fmt)
    secret = new_secret()
    with db.atomic():
        endpoint = WebhookEndpoint.create(org_unit=org_unit.id, name=name, url=url, events=keys, format=fmt,
                                          secret=secret, created_by=getattr(user, "id", None))
        audit.record("webhook", user=user, target=("webhook", endpoint.id),
                     detail=f"新建推送接口“{name}”：{org_unit.name}，{FORMATS.label(fmt)}，{url}；"
                            f"事件 {_event_labels(keys)}")
    return endpoint, secret


def update_endpoint(user, endpoint: WebhookEndpoint, *, name, org_unit: OrgUnit, url, events_keys, fmt):
    name, url, keys = _check(name, org_unit, url, events_keys, fmt)
    changes = []
    if name != endpoint.name:
        changes.append(f"名称 {endpoint.name} → {name}")
    if org_unit.id != endpoint.org_unit_id:
        changes.append(f"单位 {endpoint.org_unit.name} → {org_unit.name}")
    if url != endpoint.url:
        changes.append(f"地址 {endpoint.url} → {url}")
    if keys != endpoint.events:
        changes.append(f"事件 {_event_labels(endpoint.events)} → {_event_labels(keys)}")
    if fmt != endpoint.format:
        changes.append(f"格式 {FORMATS.label(endpoint.format)} → {FORMATS.label(fmt)}")
    if not changes:
        return []
    with db.atomic():
        WebhookEndpoint.update(name=name, org_unit=org_unit.id, url=url, events=keys, format=fmt,
                               updated_at=utcnow()).where(WebhookEndpoint.id == endpoint.id).execute()
        audit.record("webhook", user=user, target=("webhook", endpoint.id),
                     detail=f"修改推送接口“{endpoint.name}”：" + "；".join(changes))
    return changes


def set_active(user, endpoint: WebhookEndpoint, active: bool):
    if endpoint.active == active:
        return
    with db.atomic():
        WebhookEndpoint.update(active=active, updated_at=utcnow()).where(WebhookEndpoint.id == endpoint.id).execute()
        audit.record("webhook", user=user, target=("webhook", endpoint.id),
                     detail=f"{'启用' if active else '停用'}推送接口“{endpoint.name}”")


def regenerate_secret(user, endpoint: WebhookEndpoint) -> str:
    secret = new_secret()
    with db.atomic():
        WebhookEndpoint.update(secret=secret, updated_at=utcnow()).where(WebhookEndpoint.id == endpoint.id).execute()
        audit.record("webhook", user=user, target=("webhook", endpoint.id),
                     detail=f"重新生成推送接口“{endpoint.name}”的密钥（原密钥 {_secret_hint(endpoint.secret)} 作废）")
    return secret


def send_test(user, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """发送测试: a ping queued for this endpoint alone."""
    if not endpoint.active:
        raise ServiceError("推送接口已停用，请先启用再发送测试")
    with db.atomic():
        delivery = _queue_one(endpoint, PING, endpoint.org_unit,
                              {"endpoint_id": endpoint.id, "message": "一企一档推送接口测试消息"})
        audit.record("webhook", user=user, target=("webhook", endpoint.id),
                     detail=f"向推送接口“{endpoint.name}”发送测试消息")
    return delivery


def resend(user, delivery: WebhookDelivery):
    """重新发送 a failed delivery: pending again, now, with a fresh round of attempts."""
    if delivery.status != "failed":
        raise ServiceError("只有发送失败的推送可以重新发送")
    with db.atomic():
        changed = (WebhookDelivery.update(status="pending", attempts=0, next_attempt_at=utcnow(),
                                          claimed_until=None, claim="")
                   .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status == "failed").execute())
        if changed:
            audit.record("webhook", user=user, target=("webhook", delivery.endpoint_id),
                         detail=f"重新发送推送 {delivery.event}（{delivery.event_id}）")
    if changed:
        _mark_queued()


# ---- the outbox -----------------------------------------------------------------------------------

def _mark_queued():
    """Rows were written: the web layer pokes the deliveries task when the request is over."""
    if has_app_context():
        g.webhooks_queued = True


def _queue_one(endpoint, event, unit, data) -> WebhookDelivery:
    event_id, payload = events.envelope(event, unit, data, utcnow())
    delivery = WebhookDelivery.create(endpoint=endpoint.id, event=event, event_id=event_id, payload=payload,
                                      next_attempt_at=utcnow())
    _mark_queued()
    return delivery


def _subscribers(event: str):
    """[(endpoint, its unit)] of the active endpoints that take `event` (a small table, one query)."""
    query = (WebhookEndpoint.select(WebhookEndpoint, OrgUnit).join(OrgUnit)
             .where(WebhookEndpoint.active == True, WebhookEndpoint.events.contains(f",{event},")))  # noqa: E712
    return [(e, e.org_unit) for e in query]


def queue(event: str, build) -> int:
    """One row per occurrence (of `build()`) and endpoint whose unit is the occurrence's unit or one
    above it. The occurrences are built only when an endpoint takes the event."""
    subscribers = _subscribers(event)
    if not subscribers:
        return 0
    occurrences = build()
    if not occurrences:
        return 0
    units = {u.id: u for u in OrgUnit.select().where(OrgUnit.id.in_(list({o.unit_id for o in occurrences})))}
    now = utcnow()
    rows = []
    for occ in occurrences:
        unit = units.get(occ.unit_id)
        if unit is None:
            continue
        for endpoint, within in subscribers:
            if not unit.path.startswith(within.path):
                continue
            event_id, payload = events.envelope(event, unit, occ.data(within), now)
            rows.append({"endpoint": endpoint.id, "event": event, "event_id": event_id, "payload": payload,
                         "status": "pending", "attempts": 0, "next_attempt_at": now, "claim": "",
                         "last_error": "", "created_at": now})
    for start in range(0, len(rows), 200):
        WebhookDelivery.insert_many(rows[start:start + 200]).execute()
    if rows:
        _mark_queued()
    return len(rows)


def _safely(event, build):
    """Queue in a savepoint: a fault here is logged and leaves the write that sent the signal whole."""
    try:
        with db.atomic():
            queue(event, build)
    except Exception:  # the cadre's visit matters more than its notice
        log.exception("webhooks: could not queue %s", event)


def _record_created(kind, record=None, **_):
    if kind == "visit":
        _safely("visit.created", lambda: events.visits(record))
    elif kind == "meeting":
        _safely("meeting.created", lambda: events.meetings(record))


def _followups_assigned(_sender, followups=(), previous=None, **_):
    _safely("followup.assigned", lambda: events.followups(list(followups), previous or {}))


def _followups_overdue(_sender, followups=(), **_):
    _safely("followup.overdue", lambda: events.followups(list(followups)))


def _stage_changed(_sender, enterprise_id=None, from_stage=None, to_stage=None, event=None, **_):
    _safely("enterprise.stage_changed", lambda: events.stage_moves(enterprise_id, from_stage, to_stage, event))


def _member_joined(_sender, member=None, **_):
    _safely("member.joined", lambda: events.members(member))


signals.record_created.connect(_record_created)
signals.followups_assigned.connect(_followups_assigned)
signals.followups_overdue.connect(_followups_overdue)
signals.stage_changed.connect(_stage_changed)
signals.member_joined.connect(_member_joined)


# ---- the delivery round ---------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """X-CRM-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}" with the endpoint's secret>."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is the receiver's answer, not a place to go: a signed body is never sent elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    """(status, the first 64 KB of the answer); raises for no answer."""
    host = urlsplit(url).hostname or ""
    proxies = urllib.request.ProxyHandler({} if _is_loopback(host) else None)
    opener = urllib.request.build_opener(proxies, _NoRedirect)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with opener.open(request, timeout=TIMEOUT) as resp:
            return resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:  # 4xx, 5xx, and a 3xx not followed
        exc.close()
        return exc.code, b""


def _failure(exc) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (TimeoutError, socket.timeout)) or isinstance(exc, (TimeoutError, socket.timeout)):
        return f"接收方 {TIMEOUT} 秒内没有应答"
    if isinstance(reason, ConnectionRefusedError):
        return "连接被拒绝（接收方没有在该地址上运行）"
    if isinstance(reason, socket.gaierror):
        return "找不到接收地址的主机（域名解析失败）"
    if isinstance(exc, urllib.error.URLError) and "CERTIFICATE" in str(reason).upper():
        return "接收方的 HTTPS 证书无效"
    return f"无法连接接收方：{str(reason)[:120]}"


def attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[bool, int | None, str]:
    """Send one delivery now: (delivered, HTTP status, why not)."""
    problem = url_problem(endpoint.url, endpoint.format)
    if problem:
        return False, None, problem[:200]
    body = events.body(endpoint.format, delivery.payload).encode("utf-8")
    timestamp = str(int(clock().timestamp()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "yiqi-yidang-crm-webhooks",
               "X-CRM-Event": delivery.event, "X-CRM-Delivery": delivery.event_id, "X-CRM-Timestamp": timestamp,
               "X-CRM-Signature": sign(endpoint.secret, timestamp, body)}
    try:
        status, answer = _post(endpoint.url, body, headers)
    except Exception as exc:  # no answer: refused, timed out, TLS, DNS …
        return False, None, _failure(exc)
    if 300 <= status < 400:
        return False, status, f"接收方返回 HTTP {status}（重定向），推送不跟随重定向，请填写最终地址"
    if not 200 <= status < 300:
        return False, status, f"接收方返回 HTTP {status}"
    if endpoint.format == "wecom":
        try:
            answer = json.loads(answer or b"{}")
        except ValueError:
            answer = {}
        code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if code not in (0, None):
            return False, status, f"企业微信返回错误 {code}：{str(answer.get('errmsg', ''))[:100]}"
    return True, status, ""


def _claim(delivery_id: int, now) -> str | None:
    """Take the row for this round (its lease) if no other round holds it: the token, or None."""
    token = secrets.token_hex(8)
    with db.atomic():
        changed = (WebhookDelivery.update(claimed_until=now + LEASE, claim=token)
                   .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                          WebhookDelivery.next_attempt_at <= now,
                          WebhookDelivery.claimed_until.is_null() | (WebhookDelivery.claimed_until <= now))
                   .execute())
    return token if changed == 1 else None


def _settle(delivery: WebhookDelivery, token: str, now, delivered: bool, status, error: str):
    attempts = delivery.attempts + 1
    values = {"attempts": attempts, "last_status_code": status, "last_error": error[:200],
              "claimed_until": None, "claim": ""}
    if delivered:
        values.update(status="delivered", delivered_at=utcnow(), last_error="")
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=now + BACKOFF[attempts - 1])
    with db.atomic():
        (WebhookDelivery.update(**values)
         .where(WebhookDelivery.id == delivery.id, WebhookDelivery.claim == token).execute())


def deliver_due(now=None, limit: int = BATCH) -> int:
    """Send up to `limit` pending deliveries due at `now` (default: the clock) of active endpoints,
    oldest first. Returns how many were attempted. A plain function: `crm webhooks deliver` and the
    worker's periodic task call it; it uses the calling thread's connection."""
    now = now or utcnow()
    due = list(WebhookDelivery.select(WebhookDelivery.id)
               .join(WebhookEndpoint)
               .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                      WebhookDelivery.claimed_until.is_null() | (WebhookDelivery.claimed_until <= now),
                      WebhookEndpoint.active == True)  # noqa: E712
               .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit).tuples())
    attempted = 0
    for (delivery_id,) in due:
        token = _claim(delivery_id, now)
        if token is None:
            continue  # another round has it
        delivery = WebhookDelivery.get_by_id(delivery_id)
        endpoint = WebhookEndpoint.get_by_id(delivery.endpoint_id)
        delivered, status, error = attempt(endpoint, delivery)
        _settle(delivery, token, now, delivered, status, error)
        attempted += 1
        log.info("webhook delivery=%s event=%s endpoint=%s attempt=%s status=%s %s", delivery.event_id,
                 delivery.event, endpoint.id, delivery.attempts + 1, status, error)
    return attempted


def deliver_all(now=None) -> int:
    """Rounds until nothing due is left (what the CLI and the worker's task run)."""
    total = 0
    while True:
        sent = deliver_due(now, BATCH)
        total += sent
        if sent < BATCH:
            return total


def purge(now=None) -> int:
    """Delete the deliveries delivered more than KEEP_DELIVERED ago. A delivered row's
    next_attempt_at is the moment its last try was due (just before it was delivered): the
    (status, next_attempt_at) index finds them."""
    cutoff = (now or utcnow()) - KEEP_DELIVERED
    with db.atomic():
        return (WebhookDelivery.delete()
                .where(WebhookDelivery.status == "delivered", WebhookDelivery.next_attempt_at < cutoff).execute())


DELIVER = "webhooks_deliver"
registry.periodic(DELIVER, "推送接口：发送", deliver_all, minute="*")
registry.periodic("webhooks_purge", "推送接口：清理已送达的记录", purge, minute="17")


# ---- reads the pages share ------------------------------------------------------------------------

def delivery_counts() -> dict:
    """{endpoint id: {status: count}} (pending and failed: what the list warns about)."""
    counts = {}
    query = (WebhookDelivery.select(WebhookDelivery.endpoint, WebhookDelivery.status,
                                    fn.COUNT(WebhookDelivery.id).alias("n"))
             .where(WebhookDelivery.status.in_(("pending", "failed")))
             .group_by(WebhookDelivery.endpoint, WebhookDelivery.status))
    for row in query.dicts():
        counts.setdefault(row["endpoint"], {})[row["status"]] = row["n"]
    return counts

#!/usr/bin/env python3
"""A load test over loopback: many users at once against `crm serve` (gunicorn), bounded in time.

    .venv/bin/python scripts/load_test.py --database-url URL [--users 50] [--duration 300]
        [--port 8765] [--workers 2] [--think 1,3] [--write-share 0.2] [--json out.json]
        [--password Daxing-2026] [--seed 1]
    .venv/bin/python scripts/load_test.py --url https://127.0.0.1:18443 --database-url URL [...]
        [--server-log FILE ...]

Starts `crm serve --host 127.0.0.1 --port P --workers W` (gthread, 4 threads a worker) as a child
process with CRM_DATABASE_URL=URL and a random 32-character CRM_SECRET_KEY, waits until it answers,
then logs in one session per user through the real login form (existing staff and supervisor
accounts, about one supervisor in five; an account is shared by several sessions when there are
fewer accounts than users; the password is checked on the first login and the run stops there if
it is wrong, so no account is locked out). The logins happen before the timed window.

Then each user is a thread with its own cookie, for --duration seconds: it picks an action, waits
a think time (uniform in --think, seconds; "0" makes it a stress test with no pause), and repeats.
Reads (GET): home; the enterprise list (plain, a page further on, a filter, a search); a file of
its scope (sometimes the timeline's second page); a ledger (visits, meetings, needs, trainings,
activities); 跟进任务 (the team board for supervisors, my tasks for staff) and, less often, the
suggestions; now and then 工作概况, the 双沟通 grid or the monthly report. Writes: a visit (GET
the form for a fresh form key, POST it: expect 302) or an
enterprise edit (GET the edit form, POST every field back with its version and a new 备注: expect
302; a 409 is the app refusing a stale save and is counted as a conflict, not an error). Writes
are chosen so that POSTs are --write-share of all requests (0.2: one action in four is a write,
and its form GET counts as a read). Each session writes only to files no other session writes to.

Every request opens its own connection (Connection: close) and is timed from sending to the end
of reading the body (client-side latency; client and server share this machine). It records the
status and whether the body says "database is locked"; the server's stdout (access log) and
stderr go to files whose "database is locked" lines are counted at the end. An error is an
unexpected status (e.g. a 500, a redirect to the login page), a form that did not save, or a
failed connection. Prints p50/p95/p99 per kind of request and overall, throughput, errors and
locked counts, and writes all of it as JSON; the server is stopped (SIGTERM, then SIGKILL after
30 s) at the end.

With --url it starts no server and sends everything to that address on this machine (loopback
only; an https one's certificate is not checked), e.g. the nginx in front of two app servers of
`scripts/two_servers.py --serve`, which prints the command; --database-url is still needed to pick
the accounts and files, and --server-log names the logs whose "database is locked" lines count.

It writes to the database: the visits, and the 备注 (notes) field of the files it edits.
"""
import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCKED = "database is locked"
SEARCH_WORDS = ["服务", "科技", "物流", "快递", "商贸", "餐饮", "超市", "建材", "五金", "中心"]
FILTERS = ["union_status=none", "union_status=founded", "is_key=1", "contact=90", "stage=contacted",
           "category=express", "industry=G", "sort=name", "size=25", "visit_q=none"]
LEDGERS = ["/visits/", "/meetings/", "/needs/", "/trainings/", "/activities/"]


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, f"{parts.username or ''}:***@{host}", parts.path, parts.query, ""))
    return url


def percentile(ordered, p):
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1))]


# ---- a minimal browser ---------------------------------------------------------------------

class Forms(HTMLParser):
    """Every <form> of a page with the values a browser would submit (checked boxes, selected
    options, textareas; no buttons or files)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._options, self._textarea = [], None, None, [], None

    def handle_starttag(self, tag, attrs):
        at = dict(attrs)
        if tag == "form":
            self._form = {"action": at.get("action"), "method": (at.get("method") or "get").lower(), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            kind = (at.get("type") or "text").lower()
            name = at.get("name")
            if not name or kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in at:
                return
            self._form["fields"].append((name, at.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = (at.get("name"), "multiple" in at)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((at.get("value", ""), "selected" in at))
        elif tag == "textarea":
            self._textarea = [at.get("name"), ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [v for v, sel in self._options if sel]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            if name:
                self._form["fields"].extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            if name:
                self._form["fields"].append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_with(html: str, field: str):
    parser = Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and any(name == field for name, _ in form["fields"]):
            return form
    return None


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


class Response:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data

    @property
    def text(self):
        return self.data.decode("utf-8", "replace")

    def header(self, name, default=""):
        return self.headers.get(name) or default


def multipart(fields, files):
    """A multipart/form-data body: fields [(name, value)], files [(name, filename, bytes, type)]."""
    boundary = "----crm" + secrets.token_hex(12)
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data, kind in files:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f'Content-Type: {kind}\r\n\r\n'.encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One user's session: a cookie jar, a new connection per request. `target`: a port on
    127.0.0.1, or a base URL on this machine (http:// or https://; the certificate of an https
    one on loopback is not checked: a test's own)."""

    def __init__(self, target, timeout=60.0, headers=None):
        base = target if isinstance(target, str) else f"http://127.0.0.1:{target}"
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base!r}")
        if not loopback(parts.hostname):
            raise ValueError(f"only addresses on this machine: {parts.hostname}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout, self.cookies, self.headers = timeout, {}, dict(headers or {})

    def connection(self, timeout=None):
        if self.scheme == "https":
            import ssl
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout or self.timeout,
                                               context=ssl._create_unverified_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)

    def send(self, method, path, fields=None, files=None, headers=None, timeout=None) -> Response:
        """The whole answer (status, headers, bytes); cookies kept. Raises on a connection failure."""
        sent = {"Connection": "close", "Accept": "text/html", "User-Agent": "crm-load-test", **self.headers,
                **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":  # as a browser does (over https Flask-WTF checks it is this site)
            sent.setdefault("Referer", f"{self.scheme}://{self.host}:{self.port}{path}")
        body = None
        if files:
            body, sent["Content-Type"] = multipart(fields or [], files)
        elif fields is not None:
            body = urlencode(fields, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            for raw in resp.msg.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(raw)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or morsel.value == "":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Response(resp.status, resp.msg, data)
        finally:
            conn.close()

    def request(self, method, path, fields=None):
        """(status, body text, location header). Raises on a connection failure."""
        r = self.send(method, path, fields)
        return r.status, r.text, r.header("Location")


def csrf_from(html):
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    return match.group(1) if match else None


def login(target, username, password, headers=None):
    """A signed-in Browser (target: a port or a base URL), or (None, what went wrong)."""
    b = Browser(target, headers=headers)
    status, html, _ = b.request("GET", "/login")
    token = csrf_from(html)
    if status != 200 or not token:
        return None, f"GET /login: {status}"
    status, html, location = b.request("POST", "/login", {"username": username, "password": password,
                                                         "csrf_token": token})
    if status != 302 or "/login" in location:
        return None, f"POST /login: {status}"
    return b, None


# ---- the run -------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.rows = []  # (t since start, label, method, status, ms, outcome, note)
        self.t0 = time.perf_counter()
        self.lock = threading.Lock()
        self.samples = defaultdict(list)  # outcome -> first notes

    def add(self, label, method, status, ms, outcome, note=""):
        with self.lock:
            self.rows.append((round(time.perf_counter() - self.t0, 3), label, method, status, round(ms, 2),
                              outcome, note))
            if outcome != "ok" and len(self.samples[outcome]) < 20:
                self.samples[outcome].append(f"{method} {label} -> {status}: {note}"[:200])


def text_of(html, limit=160):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()[:limit]


class User(threading.Thread):
    def __init__(self, n, browser, account, targets, writes, args, recorder, deadline, rng):
        super().__init__(name=f"user-{n}", daemon=True)
        self.n, self.b, self.account, self.targets, self.writes = n, browser, account, targets, writes
        self.a, self.rec, self.deadline, self.rng = args, recorder, deadline, rng
        self.words = SEARCH_WORDS + [w for w in account["words"]]

    def call(self, label, method, path, fields=None, expect=(200,), check=None):
        started = time.perf_counter()
        try:
            status, html, location = self.b.request(method, path, fields)
        except Exception as exc:
            ms = (time.perf_counter() - started) * 1000
            self.rec.add(label, method, None, ms, "error", f"{type(exc).__name__}: {exc}")
            return None, None
        ms = (time.perf_counter() - started) * 1000
        outcome, note = "ok", ""
        if LOCKED in html:
            outcome, note = "locked", text_of(html)
        elif status == 409 and 409 in expect:
            outcome, note = "conflict", path
        elif status not in expect:
            outcome, note = "error", f"{path} {location} {text_of(html)}"
        elif check is not None:
            problem = check(status, html, location)
            if problem:
                outcome, note = "error", f"{path}: {problem}"
        self.rec.add(label, method, status, ms, outcome, note)
        return status, html

    # reads
    def read(self):
        r = self.rng.random()
        if r < 0.15:
            self.call("home", "GET", "/")
        elif r < 0.40:
            kind = self.rng.random()
            if kind < 0.3:
                self.call("list", "GET", "/enterprises/")
            elif kind < 0.45:
                self.call("list page", "GET", f"/enterprises/?page={self.rng.randint(2, 40)}")
            elif kind < 0.7:
                self.call("list filter", "GET", "/enterprises/?" + self.rng.choice(FILTERS))
            else:
                self.call("list search", "GET", "/enterprises/?" + urlencode({"q": self.rng.choice(self.words)}))
        elif r < 0.65:
            ent = self.rng.choice(self.targets)
            suffix = "?tl_page=2" if self.rng.random() < 0.15 else ""
            self.call("file", "GET", f"/enterprises/{ent}{suffix}")
        elif r < 0.85:
            self.call("ledger", "GET", self.rng.choice(LEDGERS))
        elif r < 0.93:
            self.call("board" if self.account["role"] == "supervisor" else "my tasks", "GET", "/followups/")
        elif r < 0.96:
            self.call("suggestions", "GET", "/followups/suggestions")
        else:  # 工作概况, the 双沟通 grid and the month's report
            label, path = self.rng.choice((("dashboard", "/dashboard/"), ("compliance grid", "/compliance/"),
                                           ("monthly report", "/reports/monthly")))
            self.call(label, "GET", path)

    # writes
    def visit(self):
        ent = self.rng.choice(self.writes)
        path = f"/enterprises/{ent}/visits/new"
        status, html = self.call("visit form", "GET", path)
        if status != 200:
            return
        form = form_with(html, "form_key")
        if form is None:
            self.rec.add("visit", "POST", None, 0, "error", f"{path}: no visit form on the page")
            return
        fields = [(k, v) for k, v in form["fields"] if k not in ("summary", "purposes")]
        fields += [("summary", f"压力测试走访 {datetime.now():%H:%M:%S} 用户{self.n}"), ("purposes", "policy")]
        self.call("visit", "POST", path, fields, expect=(302,),
                  check=lambda s, h, loc: None if "/visits/" in loc else f"redirected to {loc!r}")

    def edit(self):
        ent = self.rng.choice(self.writes)
        path = f"/enterprises/{ent}/edit"
        status, html = self.call("edit form", "GET", path)
        if status != 200:
            return
        form = form_with(html, "version")
        if form is None:
            self.rec.add("edit", "POST", None, 0, "error", f"{path}: no edit form on the page")
            return
        fields = [(k, v) for k, v in form["fields"] if k != "notes"]
        fields.append(("notes", f"压力测试修改 {datetime.now():%Y-%m-%d %H:%M:%S} 用户{self.n}"))
        self.call("edit", "POST", path, fields, expect=(302, 409),
                  check=lambda s, h, loc: None if s == 409 or f"/enterprises/{ent}" in loc else f"redirected to {loc!r}")

    def run(self):
        think = self.a.think
        write_p = self.a.write_share / (1 - self.a.write_share)  # a write is 1 GET + 1 POST
        time.sleep(self.rng.uniform(0, max(think[1], 0.5)))  # users do not all start at once
        while time.perf_counter() < self.deadline:
            if self.writes and self.rng.random() < write_p:
                self.visit() if self.rng.random() < 0.5 else self.edit()
            else:
                self.read()
            pause = self.rng.uniform(*think) if think[1] > 0 else 0
            if pause:
                time.sleep(min(pause, max(0.0, self.deadline - time.perf_counter())))


def pick_accounts(url, users):
    """Active staff and supervisors with the files of their scope (read once, before the run)."""
    from crm.auth.models import User as Account
    from crm.db import bind
    from crm.enterprises.models import Enterprise
    from crm.org.models import OrgUnit
    database = bind(url)
    database.connect(reuse_if_open=True)
    try:
        staff = list(Account.select().where(Account.role == "staff", Account.active == True).order_by(Account.id))  # noqa: E712
        sups = list(Account.select().where(Account.role == "supervisor", Account.active == True).order_by(Account.id))  # noqa: E712
        if not staff and not sups:
            sys.exit("no active staff or supervisor accounts in the database")
        pool, si, pi = [], 0, 0
        for i in range(users):
            if (i % 5 == 4 and sups) or not staff:
                pool.append(sups[pi % len(sups)])
                pi += 1
            else:
                pool.append(staff[si % len(staff)])
                si += 1
        accounts = {}
        for acc in pool:
            if acc.id in accounts:
                continue
            scope = OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(acc.org_unit.path))
            rows = list(Enterprise.select(Enterprise.id, Enterprise.name)
                        .where(Enterprise.org_unit.in_(scope), Enterprise.archived == False)  # noqa: E712
                        .order_by(Enterprise.id).limit(400).tuples())
            words = []
            for _, name in rows[:40]:
                core = re.sub(r"^(北京市|北京)", "", name)
                if len(core) >= 4 and re.match(r"^[\u4e00-\u9fff]{4}", core):
                    words.append(core[:4])
            accounts[acc.id] = {"id": acc.id, "username": acc.username, "role": acc.role,
                                "unit": acc.org_unit.name, "files": [r[0] for r in rows], "words": words[:5]}
        return [accounts[acc.id] for acc in pool]
    finally:
        database.close()


def port_busy(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def crm_command():
    local = Path(sys.executable).with_name("crm")
    if local.exists():
        return [str(local)]
    found = shutil.which("crm")
    if found:
        return [found]
    sys.exit("the crm command is not installed (pip install -e .)")


def count_locked(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return sum(line.count(LOCKED) for line in fh)
    except FileNotFoundError:
        return 0


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the server's own process group (start_new_session)
            proc.wait(10)


def summarise(rows):
    def stats(selected):
        ms = sorted(r[4] for r in selected)
        outcomes = Counter(r[5] for r in selected)
        return {"n": len(ms), "p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1),
                "p99_ms": round(percentile(ms, 0.99), 1), "max_ms": round(ms[-1], 1) if ms else None,
                "errors": outcomes.get("error", 0), "locked": outcomes.get("locked", 0),
                "conflicts": outcomes.get("conflict", 0)}
    by_label = {}
    for label in sorted({r[1] for r in rows}):
        by_label[label] = stats([r for r in rows if r[1] == label])
    return {"all": stats(rows), "reads (GET)": stats([r for r in rows if r[2] == "GET"]),
            "writes (POST)": stats([r for r in rows if r[2] == "POST"]), "by_label": by_label}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("CRM_DATABASE_URL"), help="default: $CRM_DATABASE_URL")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--duration", type=float, default=300, help="seconds of the timed window (default 300)")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--think", default="1,3", help="think time between actions, MIN,MAX seconds (default 1,3; 0 = none)")
    ap.add_argument("--write-share", type=float, default=0.2, help="share of requests that are POSTs (default 0.2)")
    ap.add_argument("--password", default="Daxing-2026", help="password of the accounts used")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="where to write the results (default: in the run's log directory)")
    ap.add_argument("--log-dir", help="where the server's stdout/stderr go (default: a new temp directory)")
    ap.add_argument("--startup-timeout", type=float, default=120)
    ap.add_argument("--url", help="a server already running on this machine (e.g. the nginx of "
                                  "scripts/two_servers.py --serve): no server is started; --port and "
                                  "--workers are ignored")
    ap.add_argument("--server-log", action="append", default=[],
                    help="with --url: a server log whose 'database is locked' lines are counted (repeatable)")
    a = ap.parse_args()
    if not a.database_url:
        ap.error("give --database-url or set CRM_DATABASE_URL")
    try:
        parts = [float(x) for x in a.think.split(",")]
        a.think = (parts[0], parts[-1]) if parts else (0.0, 0.0)
    except ValueError:
        ap.error("--think takes MIN,MAX seconds, e.g. 1,3 (or 0)")
    if not 0 <= a.write_share < 0.5:
        ap.error("--write-share must be between 0 and 0.5")
    if a.url:
        try:
            Browser(a.url)
        except ValueError as exc:
            ap.error(f"--url: {exc}")
    elif port_busy(a.port):
        sys.exit(f"port {a.port} is already in use (choose another with --port)")
    target = a.url or a.port

    log_dir = Path(a.log_dir or tempfile.mkdtemp(prefix="crm-load-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    serving = f"the server at {a.url}" if a.url else f"gunicorn {a.workers} workers on 127.0.0.1:{a.port}"
    print(f"database: {redact(a.database_url)}; {a.users} users for {a.duration:g} s, think {a.think[0]:g}–{a.think[1]:g} s, "
          f"{a.write_share:.0%} writes; {serving}; logs in {log_dir}")
    accounts = pick_accounts(a.database_url, a.users)
    distinct = {acc["username"] for acc in accounts}
    print(f"accounts: {len(distinct)} distinct ({sum(1 for x in accounts if x['role'] == 'supervisor')} supervisor sessions)")

    env = dict(os.environ)
    env["CRM_DATABASE_URL"] = a.database_url
    env["CRM_SECRET_KEY"] = secrets.token_urlsafe(24)  # 32 characters
    if not env.get("CRM_INSTANCE_DIR"):
        env["CRM_INSTANCE_DIR"] = str(log_dir / "instance")  # uploads etc., never ./instance
    out_path, err_path = log_dir / "server.out", log_dir / "server.err"
    proc = None
    if not a.url:
        cmd = crm_command() + ["serve", "--host", "127.0.0.1", "--port", str(a.port), "--workers", str(a.workers)]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=out, stderr=err, start_new_session=True)
    result = {"error": None}
    try:
        started = time.perf_counter()
        while True:
            if proc is not None and proc.poll() is not None:
                tail = err_path.read_text(errors="replace")[-2000:]
                sys.exit(f"the server exited ({proc.returncode}) before answering:\n{tail}")
            try:
                if Browser(target, timeout=5).request("GET", "/login")[0] == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - started > a.startup_timeout:
                sys.exit(f"the server did not answer within {a.startup_timeout:g} s")
            time.sleep(0.2)
        print(f"server up in {time.perf_counter() - started:.1f} s" + (f" (pid {proc.pid})" if proc else ""))

        # Log in: the first one alone (a wrong password stops here, before any lockout).
        started = time.perf_counter()
        first, problem = login(target, accounts[0]["username"], a.password)
        if first is None:
            sys.exit(f"login as {accounts[0]['username']} failed ({problem}): wrong --password?")
        browsers, failed = [first], set()
        with ThreadPoolExecutor(max_workers=max(2, a.workers * 4)) as pool:
            results = list(pool.map(lambda acc: login(target, acc["username"], a.password), accounts[1:]))
        for acc, (browser, problem) in zip(accounts[1:], results):
            if browser is None:
                failed.add(f"{acc['username']}: {problem}")
            browsers.append(browser)
        print(f"{sum(1 for b in browsers if b)} sessions logged in in {time.perf_counter() - started:.1f} s"
              + (f"; failed: {sorted(failed)}" if failed else ""))

        # Files each session writes to: its own, not shared with another session (no 409 by design).
        rng = random.Random(a.seed)
        claimed = set()
        writes = []
        for acc in accounts:
            mine = [f for f in acc["files"] if f not in claimed][:10]
            claimed.update(mine)
            writes.append(mine)

        recorder = Recorder()
        deadline = time.perf_counter() + a.duration
        users = [User(i, b, acc, acc["files"] or [0], w, a, recorder, deadline, random.Random(rng.random()))
                 for i, (b, acc, w) in enumerate(zip(browsers, accounts, writes)) if b is not None and acc["files"]]
        if len(users) < len(accounts):
            print(f"  note: {len(accounts) - len(users)} sessions left out (login failed or no files in scope)")
        window_start = time.perf_counter()
        print(f"running {len(users)} users for {a.duration:g} s …", flush=True)
        for u in users:
            u.start()
        last = window_start
        while any(u.is_alive() for u in users):
            time.sleep(1)
            if proc is not None and proc.poll() is not None:
                result["error"] = f"the server exited ({proc.returncode}) during the run"
                print("!! " + result["error"], flush=True)
                break
            if time.perf_counter() - last >= 30:
                last = time.perf_counter()
                rows = list(recorder.rows)
                bad = sum(1 for r in rows if r[5] in ("error", "locked"))
                print(f"  {last - window_start:5.0f} s: {len(rows)} requests, {bad} errors", flush=True)
            if time.perf_counter() > deadline + 90:
                result["error"] = "users still busy 90 s after the end of the window"
                break
        elapsed = time.perf_counter() - window_start
    finally:
        if proc is not None:
            stop(proc)

    rows = list(recorder.rows)
    summary = summarise(rows)
    logs = [Path(p) for p in a.server_log] if a.url else [err_path, out_path]
    locked_log = sum(count_locked(p) for p in logs)
    methods = Counter(r[2] for r in rows)
    throughput = len(rows) / elapsed if elapsed else 0

    print()
    print(f"{'requests':22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6} {'locked':>6} {'409':>5}")

    def line(name, s):
        print(f"{name:22} {s['n']:6d} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} {s['p99_ms']:8.1f} "
              f"{(s['max_ms'] or 0):8.1f} {s['errors']:6d} {s['locked']:6d} {s['conflicts']:5d}")
    for label, s in summary["by_label"].items():
        line("  " + label, s)
    line("reads (GET)", summary["reads (GET)"])
    line("writes (POST)", summary["writes (POST)"])
    line("all", summary["all"])
    total = summary["all"]
    errors = total["errors"]
    print()
    print(f"{len(rows)} requests in {elapsed:.1f} s = {throughput:.1f} requests/s; "
          f"GET {methods.get('GET', 0)}, POST {methods.get('POST', 0)} "
          f"({methods.get('POST', 0) / max(1, len(rows)):.0%} writes)")
    print(f"errors: {errors}; 'database is locked': {total['locked']} in responses, {locked_log} lines in the server's logs; "
          f"edit conflicts (409): {total['conflicts']}")
    for outcome, notes in recorder.samples.items():
        print(f"first {outcome}s:")
        for note in notes[:5]:
            print(f"  {note}")
    verdict = total["p95_ms"] <= 300 and errors == 0 and total["locked"] == 0 and locked_log == 0 and not result["error"]
    print(f"target p95 ≤ 300 ms, 0 errors, 0 locked: {'met' if verdict else 'NOT met'}"
          + (f" ({result['error']})" if result["error"] else ""))

    data = {
        "load_test": "scripts/load_test.py",
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database_url": redact(a.database_url),
        "settings": {"users": a.users, "duration_s": a.duration, "think_s": list(a.think), "write_share": a.write_share,
                     "workers": None if a.url else a.workers, "threads_per_worker": 4,
                     "port": None if a.url else a.port, "url": a.url, "seed": a.seed},
        "python": sys.version.split()[0], "platform": platform.platform(), "cpu_count": os.cpu_count(),
        "accounts": sorted(distinct), "sessions": len(users),
        "elapsed_s": round(elapsed, 1), "requests": len(rows), "throughput_rps": round(throughput, 2),
        "methods": dict(methods), "summary": summary,
        "locked_lines_in_server_logs": locked_log, "problem": result["error"],
        "samples": dict(recorder.samples), "target_met": verdict,
        "server_logs": [str(p) for p in logs],
        "today": date.today().isoformat(),
    }
    out = Path(a.json) if a.json else log_dir / "load_test.json"
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    print(f"results written to {out}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Two app servers behind nginx, on PostgreSQL and Redis, on this machine: do they act as one?

    .venv/bin/python scripts/two_servers.py [--writers 8] [--keep]
    .venv/bin/python scripts/two_servers.py --serve [--enterprises 300]
    .venv/bin/python scripts/two_servers.py --serve --from-database district   (a load test on a copy
        of a database holding the district set: migrated and analysed, no demo loaded)

Sets up, all on 127.0.0.1 and all its own:
- a fresh PostgreSQL database (--database, default crm_two_servers; dropped first if it is left
  from an earlier run, and at the end), migrated once by `crm db upgrade` and loaded with the demo;
- a Redis database number of its own (--redis-db, default 14; emptied at the start and the end):
  the job queue and the API's rate counts;
- two `crm serve --no-worker` (A and B), each with its own CRM_INSTANCE_DIR, the same
  CRM_SECRET_KEY and CRM_DATA_KEY, one shared folder for the photos and the job results,
  CRM_PROXIES=1 and CRM_HTTPS=1, and one `crm worker`;
- nginx (the Debian package's binary, a generated config in the run's temp folder, run as the
  current user with its own pid, log and temp paths) in front of them: HTTPS with a self-signed
  certificate made here, a plain-HTTP listener beside it, an upstream of A and B, the proxy headers
  of docs/deployment.md. A request with `X-Crm-Upstream: a` (or b) goes to that server only.

Then it checks, through nginx unless said otherwise:
1. each server is ready (/readyz, straight to its port);
2. a supervisor of the demo signs in (the admin needs a second factor); a made-up X-Forwarded-For
   sent by the client is not believed (the audit log has the address nginx saw); the session
   cookie is Secure and HSTS is sent (the app sees https through X-Forwarded-Proto); a sign-up
   link of a meeting is https://<nginx's host:port>/… (scheme and Host as the browser sent them);
3. the session holds on both servers: through nginx pinned to each, and straight to each port;
4. a photo uploaded with a visit through A is served by B, byte for byte;
5. an export big enough to be a job (CRM_EXPORT_INLINE_ROWS=1) started on A is run by the worker
   and downloaded through B;
6. a write load: --writers threads log visits through nginx, each with its form's key; A is killed
   (SIGKILL, the whole process group) in the middle. A write that failed is sent again with the
   same form key until it gets an answer. Afterwards: every write answered with success is in the
   database exactly once (and is the record the answer named), no form key has two records, every
   visit of the run belongs to a key that was answered, and the only failed requests are those
   that were in flight when A died; after that every request is answered by B.
Prints a summary and exits 1 on any failure; stops every process it started and drops the
database (--keep: leaves the temp folder with the logs).

--serve: only the setup (with --enterprises files, default 300, for a load test), then prints
the URLs, the logins and the load-test command, and waits until Ctrl+C or SIGTERM; then cleans up.
"""
import argparse
import datetime as dt
import getpass
import hashlib
import io
import os
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from load_test import Browser, csrf_from, form_with, login  # noqa: E402

PASSWORD = "Daxing-2026"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MARK = "双服务器写入"  # in the summary of every visit the write load logs


class Failed(Exception):
    pass


def crm_command():
    """`crm` of this checkout (run from its root), whatever the venv's `crm` points at."""
    return [sys.executable, "-c", "from crm.cli import main; main()"]


# ---- the setup -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env, what, timeout=600):
    done = subprocess.run(cmd, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise Failed(f"{what} failed ({done.returncode}):\n{(done.stderr or done.stdout)[-2000:]}")
    return done.stdout


def pg_admin(sql: str, database: str = ""):
    """Run one statement as the admin, in the postgres database (or `database`)."""
    import psycopg2
    conn = psycopg2.connect(PG_ADMIN if not database else PG_ADMIN.rsplit("/", 1)[0] + "/" + database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def drop_database(name: str):
    pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
             f"AND pid <> pg_backend_pid()")
    pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def self_signed(folder: Path):
    """A certificate for 127.0.0.1 and localhost (P-256, a day), made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    os.chmod(folder / "key.pem", 0o600)


NGINX_CONF = """# Generated by scripts/two_servers.py: nginx in front of two app servers (see docs/deployment.md).
{user}worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format crm '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time '
                   'upstream=$upstream_addr/$upstream_status rid=$request_id';
    access_log {d}/access.log crm;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 65m;   # above CRM_MAX_CONTENT_LENGTH (64 MB): the app answers a larger one
    server_tokens off;

    # No keepalive to the servers: gunicorn closes an idle connection after 2 s, and a POST sent
    # on one it has just closed would be a 502 (nginx never sends a POST twice).
    upstream crm {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=10s;
    }}
    upstream crm_a {{ server 127.0.0.1:{a}; }}
    upstream crm_b {{ server 127.0.0.1:{b}; }}
    map $http_x_crm_upstream $crm_pool {{ default crm; a crm_a; b crm_b; }}   # the test's pin

    server {{
        listen 127.0.0.1:{https} ssl;
        listen 127.0.0.1:{http};
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        location / {{
            proxy_pass http://$crm_pool;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Crm-Upstream "";
            proxy_connect_timeout 2s;
            proxy_send_timeout 60s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;   # never a POST that reached a server
            add_header X-Crm-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Setup:
    """Every process and resource of the run; close() undoes all of it, whatever happened."""

    def __init__(self, args):
        self.a = args
        self.dir = Path(tempfile.mkdtemp(prefix="crm-two-servers-"))
        self.procs = {}  # name -> Popen
        self.database_made = False
        self.ports = {"a": free_port(), "b": free_port(), "https": args.port or free_port(),
                      "http": args.http_port or free_port()}
        self.database_url = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
        self.redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
        self.shared = self.dir / "shared"
        self.env = {}

    # URLs
    @property
    def https(self):
        return f"https://127.0.0.1:{self.ports['https']}"

    @property
    def http(self):
        return f"http://127.0.0.1:{self.ports['http']}"

    def direct(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    def log(self, name):
        return self.dir / "logs" / name

    def start(self):
        (self.dir / "logs").mkdir()
        (self.shared / "files").mkdir(parents=True)
        self._redis().flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env.update({
            "CRM_DATABASE_URL": self.database_url,
            "CRM_REDIS_URL": self.redis_url,
            "CRM_SECRET_KEY": secrets.token_urlsafe(32),
            "CRM_DATA_KEY": secrets.token_urlsafe(32),
            # The shared folder of every file (photos, documents, job results, imports).
            "CRM_STORAGE_DIR": str(self.shared / "files"),
            "CRM_PROXIES": "1",
            "CRM_HTTPS": "1",
            "CRM_EXPORT_INLINE_ROWS": "1",
        })
        self.env = env
        step("database", f"{self.a.database} (PostgreSQL), Redis db {self.a.redis_db}")
        drop_database(self.a.database)
        once = self.instance("setup")
        if self.a.from_database:
            # A copy of a database already loaded (the district set, for a load test).
            started = time.perf_counter()
            pg_admin(f'CREATE DATABASE "{self.a.database}" TEMPLATE "{self.a.from_database}"')
            self.database_made = True
            run(crm_command() + ["db", "upgrade"], once, "crm db upgrade", timeout=3600)
            pg_admin('VACUUM ANALYZE', database=self.a.database)
            step("copy", f"{self.a.from_database} copied, migrated and analysed in "
                         f"{time.perf_counter() - started:.0f} s")
        else:
            pg_admin(f'CREATE DATABASE "{self.a.database}"')
            self.database_made = True
            # The demo writes row by row: no wait for each commit's flush while it loads (a
            # database that only this run uses); put back before the servers start.
            pg_admin(f'ALTER DATABASE "{self.a.database}" SET synchronous_commit = off')
            run(crm_command() + ["db", "upgrade"], once, "crm db upgrade")
            started = time.perf_counter()
            run(crm_command() + ["demo", "load", "--enterprises", str(self.a.enterprises)], once, "crm demo load")
            pg_admin(f'ALTER DATABASE "{self.a.database}" RESET synchronous_commit')
            step("demo", f"{self.a.enterprises} files loaded in {time.perf_counter() - started:.0f} s")
        for name in ("a", "b"):
            self.spawn(name, crm_command() + ["serve", "--no-worker", "--host", "127.0.0.1", "--port",
                                              str(self.ports[name]), "--workers", str(self.a.workers)],
                       self.instance(name))
        self.spawn("worker", crm_command() + ["worker", "--workers", "2"], self.instance("worker"))
        self.wait_ready()

    def instance(self, name):
        """The environment of one process: its own instance folder (the files are in the shared
        CRM_STORAGE_DIR)."""
        folder = self.dir / f"instance-{name}"
        folder.mkdir(exist_ok=True)
        return {**self.env, "CRM_INSTANCE_DIR": str(folder)}

    def spawn(self, name, cmd, env):
        with open(self.log(f"{name}.out"), "wb") as out, open(self.log(f"{name}.err"), "wb") as err:
            self.procs[name] = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=out, stderr=err,
                                                start_new_session=True)

    def start_nginx(self):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise Failed("nginx is not installed (apt-get install nginx)")
        folder = self.dir / "nginx"
        folder.mkdir()
        self_signed(folder)
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # workers as this user, too
        conf = NGINX_CONF.format(user=user, d=folder, a=self.ports["a"], b=self.ports["b"],
                                 https=self.ports["https"], http=self.ports["http"])
        (folder / "nginx.conf").write_text(conf)
        check = subprocess.run([binary, "-t", "-q", "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-e", str(folder / "error.log")], capture_output=True, text=True)
        if check.returncode != 0:
            raise Failed(f"nginx -t: {check.stderr.strip()}")
        self.nginx_dir = folder
        self.spawn("nginx", [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                             "-e", str(folder / "error.log")], self.env)

    def wait_ready(self, timeout=120):
        started = time.perf_counter()
        waiting = {"a": self.direct("a"), "b": self.direct("b")}
        while waiting:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    tail = self.log(f"{name}.err").read_text(errors="replace")[-1500:]
                    raise Failed(f"{name} exited ({proc.returncode}) while starting:\n{tail}")
            for name, url in list(waiting.items()):
                try:
                    if Browser(url, timeout=3).send("GET", "/readyz").status == 200:
                        del waiting[name]
                except OSError:
                    pass
            if time.perf_counter() - started > timeout:
                raise Failed(f"not ready after {timeout} s: {', '.join(waiting)}")
            time.sleep(0.3)
            if not waiting and "nginx" not in self.procs:  # the servers first: nginx finds them up
                self.start_nginx()
                waiting["nginx"] = self.https
        step("servers", f"A :{self.ports['a']}, B :{self.ports['b']}, worker, nginx :{self.ports['https']} "
                        f"(https) :{self.ports['http']} (http), up in {time.perf_counter() - started:.1f} s")

    def kill(self, name):
        """SIGKILL to the whole process group (gunicorn's master and its workers)."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        for _ in range(100):  # until the workers are gone too (their sockets closed)
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def _redis(self):
        import redis
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)

    def close(self):
        order = ["nginx", "a", "b", "worker"]
        for name in order:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name in order:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        try:
            from crm.db import release
            release()
        except Exception:  # noqa: BLE001 (cleaning up)
            pass
        if self.database_made:
            try:
                drop_database(self.a.database)
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {self.a.database}: {exc}", file=sys.stderr)
        try:
            self._redis().flushdb()
        except Exception as exc:  # noqa: BLE001
            print(f"could not empty Redis db {self.a.redis_db}: {exc}", file=sys.stderr)
        if self.a.keep:
            print(f"logs kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def step(name, text):
    print(f"[{time.strftime('%H:%M:%S')}] {name:10} {text}", flush=True)


# ---- what the checks read from the database --------------------------------------------------

def database(setup):
    from crm.db import bind, db
    if db.obj is None:
        bind(setup.database_url)
    db.connect(reuse_if_open=True)
    return db


def pick_supervisor(setup):
    """The demo's supervisor with the most files (and a meeting) in scope."""
    from crm.auth.models import User
    from crm.enterprises.models import Enterprise
    from crm.meetings.models import Meeting
    from crm.org.models import OrgUnit
    database(setup)
    best = None
    for user in User.select().where(User.role == "supervisor", User.active == True):  # noqa: E712
        scope = OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(user.org_unit.path))
        files = [e.id for e in Enterprise.select(Enterprise.id).where(Enterprise.org_unit.in_(scope),
                                                                      Enterprise.archived == False)  # noqa: E712
                 .order_by(Enterprise.id)]
        meeting = Meeting.select(Meeting.id).where(Meeting.org_unit.in_(scope), Meeting.archived == False  # noqa: E712
                                                   ).order_by(Meeting.held_on.desc()).first()
        if meeting and (best is None or len(files) > len(best[1])):
            best = (user.username, files, meeting.id)
    if best is None or len(best[1]) < 2:
        raise Failed("no demo supervisor with files and a meeting in scope")
    # A meeting's sign-up link lives until the end of its day (Beijing time): the demo's latest
    # meeting may be yesterday's once Beijing has passed midnight, so it is moved to today (this
    # run's own database).
    from crm.common.timeutil import local_today
    Meeting.update(held_on=local_today()).where(Meeting.id == best[2]).execute()
    return best


def jpeg() -> bytes:
    from PIL import Image
    rng = random.Random(7)
    img = Image.new("RGB", (640, 480), (40, 90, 160))
    for _ in range(400):
        x, y = rng.randrange(640), rng.randrange(480)
        img.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (x, y, x + 12, y + 12))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


# ---- the checks ----------------------------------------------------------------------------

class Checks:
    def __init__(self, setup):
        self.s = setup
        self.results = []  # (name, ok, detail)

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        step("ok" if ok else "FAILED", f"{name}" + (f" — {detail}" if detail else ""))
        return ok

    def require(self, name, ok, detail=""):
        if not self.check(name, ok, detail):
            raise Failed(f"{name}: {detail}")

    def pinned(self, browser, name):
        """The browser's cookies, sending through nginx to one server only."""
        b = Browser(self.s.https, headers={"X-Crm-Upstream": name})
        b.cookies = browser.cookies
        return b

    def run_all(self):
        username, files, meeting = pick_supervisor(self.s)
        self.username, self.files = username, files
        for name in ("a", "b"):
            r = Browser(self.s.direct(name)).send("GET", "/readyz")
            self.require(f"server {name.upper()} ready", r.status == 200 and b'"queue":"ok"' in r.data.replace(b" ", b""),
                         r.text[:200])

        # Sign in through nginx with a made-up X-Forwarded-For.
        browser, problem = login(self.s.https, username, PASSWORD, headers={"X-Forwarded-For": "203.0.113.50"})
        self.require(f"sign-in as {username} through nginx (https)", browser is not None, problem or "")
        from crm.audit.models import AuditEvent
        database(self.s)
        event = (AuditEvent.select().where(AuditEvent.kind == "login_ok", AuditEvent.username == username)
                 .order_by(AuditEvent.id.desc()).first())
        self.check("client address: the one nginx saw, not the client's X-Forwarded-For",
                   event is not None and event.address == "127.0.0.1", f"audit address {event.address if event else None!r}")
        home = browser.send("GET", "/")
        self.check("HSTS sent (the app sees https through X-Forwarded-Proto)",
                   home.status == 200 and "max-age" in home.header("Strict-Transport-Security"),
                   home.header("Strict-Transport-Security"))
        fresh = Browser(self.s.https).send("GET", "/login")
        cookie = " ".join(fresh.headers.get_all("Set-Cookie") or [])
        self.check("session cookie is Secure", "crm_session=" in cookie and "Secure" in cookie, cookie[:120])
        page = browser.send("GET", f"/meetings/{meeting}/signup")
        link = re.search(r"https?://[^\s\"'<]+/join/[A-Za-z0-9_.\-]+", page.text)
        expected = f"{self.s.https}/join/"
        self.check("sign-up link has nginx's scheme, host and port", link and link.group(0).startswith(expected),
                   link.group(0)[:80] if link else f"no link on the page ({page.status})")

        # The session on both servers.
        seen = set()
        for _ in range(6):
            r = browser.send("GET", "/")
            seen.add(r.header("X-Crm-Upstream"))
            if r.status != 200:
                self.require("session through nginx (round robin)", False, f"{r.status} {r.header('Location')}")
        self.check("nginx spreads the requests over both servers", len(seen) == 2, ", ".join(sorted(seen)))
        for name in ("a", "b"):
            via = self.pinned(browser, name).send("GET", "/followups/")
            straight = Browser(self.s.direct(name))
            straight.cookies = browser.cookies
            direct = straight.send("GET", "/followups/")
            self.require(f"session valid on {name.upper()} (through nginx pinned, and straight to its port)",
                         via.status == 200 and direct.status == 200
                         and via.header("X-Crm-Upstream").endswith(f":{self.s.ports[name]}"),
                         f"pinned {via.status} via {via.header('X-Crm-Upstream')}, straight {direct.status}")

        self.photo(browser)
        self.export(browser)
        self.write_load()
        after = browser.send("GET", "/")
        ready = Browser(self.s.https).send("GET", "/readyz")
        self.check("after A died: the session still valid, /readyz 200, answered by B",
                   after.status == 200 and ready.status == 200
                   and after.header("X-Crm-Upstream").endswith(f":{self.s.ports['b']}"),
                   f"{after.status} {ready.status} via {after.header('X-Crm-Upstream')}")

    def photo(self, browser):
        a, b = self.pinned(browser, "a"), self.pinned(browser, "b")
        ent = self.files[0]
        path = f"/enterprises/{ent}/visits/new"
        page = a.send("GET", path)
        form = form_with(page.text, "form_key")
        self.require("visit form on A", page.status == 200 and form is not None, str(page.status))
        fields = [(k, v) for k, v in form["fields"] if k not in ("summary", "purposes")]
        fields += [("summary", "双服务器照片：在 A 上传，从 B 查看"), ("purposes", "policy")]
        photo = jpeg()
        saved = a.send("POST", path, fields, files=[("photos", "现场.jpg", photo, "image/jpeg")])
        where = saved.header("Location")
        self.require("visit with a photo saved on A", saved.status == 302 and "/visits/" in where,
                     f"{saved.status} {where} via {saved.header('X-Crm-Upstream')}")
        shown = b.send("GET", where)
        ids = re.findall(r"/photos/(\d+)", shown.text)
        self.require("the visit's page on B lists the photo", shown.status == 200 and ids, str(shown.status))
        from_b = b.send("GET", f"/photos/{ids[0]}")
        from_a = a.send("GET", f"/photos/{ids[0]}")
        self.check("photo uploaded through A served by B (the same bytes)",
                   from_b.status == 200 and from_b.header("Content-Type").startswith("image/jpeg")
                   and from_b.data == from_a.data and from_b.header("X-Crm-Upstream").endswith(f":{self.s.ports['b']}"),
                   f"B {from_b.status} {len(from_b.data)} bytes, sha256 {hashlib.sha256(from_b.data).hexdigest()[:12]}")

    def export(self, browser):
        a, b = self.pinned(browser, "a"), self.pinned(browser, "b")
        offer = a.send("GET", "/enterprises/export.xlsx")
        token = csrf_from(offer.text)
        self.require("the export is offered as a job on A", offer.status == 200 and token, str(offer.status))
        submitted = a.send("POST", "/enterprises/export.xlsx", [("csrf_token", token)])
        job = re.search(r"/jobs/(\d+)$", submitted.header("Location"))
        self.require("export job submitted on A", submitted.status == 302 and job,
                     f"{submitted.status} {submitted.header('Location')}")
        started, state = time.perf_counter(), None
        import json
        while time.perf_counter() - started < 90:
            status = json.loads(b.send("GET", f"/jobs/{job.group(1)}.json", headers={"Accept": "application/json"}).data)
            state = status.get("state")
            if state in ("done", "failed"):
                break
            time.sleep(0.5)
        self.require("the worker ran the job (its state read on B)", state == "done",
                     f"state {state} after {time.perf_counter() - started:.1f} s")
        got = b.send("GET", f"/jobs/{job.group(1)}/download")
        self.check("the job's workbook downloaded through B", got.status == 200 and got.data[:2] == b"PK"
                   and "attachment" in got.header("Content-Disposition")
                   and got.header("X-Crm-Upstream").endswith(f":{self.s.ports['b']}"),
                   f"{got.status}, {len(got.data)} bytes, {time.perf_counter() - started:.1f} s after submitting")

    # ---- the write load with A killed in the middle
    def write_load(self):
        writers, seconds = self.s.a.writers, self.s.a.load_seconds
        sessions = []
        for _ in range(writers):
            browser, problem = login(self.s.https, self.username, PASSWORD)
            if browser is None:
                self.require(f"{writers} writers signed in", False, problem or "")
            sessions.append(browser)
        self.check(f"{writers} writers signed in", True)
        attempts, lock = [], threading.Lock()  # (thread, key, kind, t0, t1, status or error, location, upstream)
        stop = threading.Event()
        t0 = time.perf_counter()

        def send(browser, n, key, kind, method, path, fields=None):
            started = time.perf_counter() - t0
            try:
                r = browser.send(method, path, fields, timeout=30)
                row = (n, key, kind, started, time.perf_counter() - t0, r.status, r.header("Location"),
                       r.header("X-Crm-Upstream"))
            except OSError as exc:
                r = None
                row = (n, key, kind, started, time.perf_counter() - t0, f"{type(exc).__name__}", "", "")
            with lock:
                attempts.append(row)
            return r

        def writer(n, browser):
            ent = self.files[n % len(self.files)]
            path = f"/enterprises/{ent}/visits/new"
            i = 0
            while not stop.is_set():
                page = send(browser, n, None, "form", "GET", path)
                form = form_with(page.text, "form_key") if page is not None and page.status == 200 else None
                if form is None:
                    time.sleep(0.2)
                    continue
                i += 1
                key = dict(form["fields"])["form_key"]
                fields = [(k, v) for k, v in form["fields"] if k not in ("summary", "purposes")]
                fields += [("summary", f"{MARK} {n}-{i}"), ("purposes", "policy")]
                for _ in range(8):  # the same form, the same key, until it is answered
                    r = send(browser, n, key, "save", "POST", path, fields)
                    if r is not None and r.status == 302 and "/visits/" in r.header("Location"):
                        break
                    time.sleep(0.3)

        threads = [threading.Thread(target=writer, args=(n, b), daemon=True) for n, b in enumerate(sessions)]
        for t in threads:
            t.start()
        time.sleep(seconds / 2)
        killing = time.perf_counter() - t0
        self.s.kill("a")
        killed = time.perf_counter() - t0
        step("kill", f"server A killed (SIGKILL) at {killing:.2f}–{killed:.2f} s, {len(attempts)} requests so far")
        time.sleep(seconds / 2)
        stop.set()
        for t in threads:
            t.join(60)
        self.verify(attempts, (killing, killed))

    def verify(self, attempts, kill):
        """`kill`: (when SIGKILL was sent, when A's processes were gone), seconds into the load. In
        flight: a request sent before A was gone that ended after the signal."""
        from crm.visits.models import Visit
        database(self.s)
        ok = lambda row: row[5] in (200, 302) and (row[2] == "form" or "/visits/" in row[6])  # noqa: E731
        saves = [r for r in attempts if r[2] == "save"]
        answered = {}  # key -> visit ids named by successful answers
        for r in saves:
            if ok(r):
                answered.setdefault(r[1], set()).add(int(r[6].rsplit("/", 1)[1]))
        keys = {r[1] for r in saves}
        retried = {k for k in keys if sum(1 for r in saves if r[1] == k) > 1}
        rows = list(Visit.select(Visit.id, Visit.form_key).where(Visit.summary.startswith(MARK)))
        by_key = {}
        for v in rows:
            by_key.setdefault(v.form_key, []).append(v.id)
        failed = [r for r in attempts if not ok(r)]
        in_flight = [r for r in failed if r[3] <= kill[1] and r[4] >= kill[0]]
        later = [r for r in failed if r not in in_flight]
        after_kill = [r for r in attempts if r[3] > kill[1] and ok(r)]
        wrong_server = [r for r in after_kill if not r[7].endswith(f":{self.s.ports['b']}")]
        self.check("every write answered with success is in the database exactly once, as answered",
                   all(len(by_key.get(k, [])) == 1 and ids == set(by_key[k]) for k, ids in answered.items()),
                   f"{len(answered)} answered writes")
        self.check("no form key has two records", all(len(v) == 1 for v in by_key.values()),
                   f"{len(rows)} visits for {len(by_key)} keys")
        self.check("every visit of the run was answered (none saved behind a lost answer)",
                   set(by_key) <= set(answered), f"{len(set(by_key) - set(answered))} unanswered")
        self.check("every write was answered in the end", keys == set(answered),
                   f"{len(keys - set(answered))} of {len(keys)} never answered")
        self.check("failed requests: only those in flight when A died", not later,
                   f"{len(in_flight)} in flight ({', '.join(sorted({str(r[5]) for r in in_flight})) or 'none'}), "
                   f"{len(later)} others" + (f": {later[:3]}" if later else ""))
        self.check("after the kill every answer came from B", after_kill and not wrong_server,
                   f"{len(after_kill)} answers after the kill, {len(wrong_server)} from elsewhere")
        replayed = sum(1 for k in retried if k in answered)
        self.load = {"requests": len(attempts), "writes": len(keys), "retried": len(retried),
                     "retried_answered": replayed, "in_flight_failed": len(in_flight), "kill": kill}
        step("load", f"{len(attempts)} requests, {len(keys)} visits written by {self.s.a.writers} threads; "
                     f"{len(retried)} sent again with their key after a failure, {len(in_flight)} requests in flight "
                     f"when A died")


def serve(setup):
    username, files, _ = pick_supervisor(setup)
    logs = " ".join(f"--server-log {setup.log(n + '.err')}" for n in ("a", "b"))
    print(f"""
一企一档: two app servers behind nginx, on PostgreSQL and Redis.
  https (nginx): {setup.https}/   (self-signed certificate)
  http  (nginx): {setup.http}/
  server A: {setup.direct('a')}/  server B: {setup.direct('b')}/  (straight, no nginx)
  database: {setup.database_url}   Redis: {setup.redis_url}
  logins: {username} and the other demo accounts, password {PASSWORD}
  logs: {setup.dir / 'logs'} (nginx: {setup.dir / 'nginx'})
Load test (another terminal):
  .venv/bin/python scripts/load_test.py --url {setup.http} --database-url {setup.database_url} \\
      --users 50 --duration 300 --write-share 0.2 {logs}
Ctrl+C stops everything and drops the database.""", flush=True)
    try:
        while True:
            for name, proc in setup.procs.items():
                if proc.poll() is not None:
                    raise Failed(f"{name} exited ({proc.returncode})")
            time.sleep(1)
    except KeyboardInterrupt:  # (SIGTERM too: main)
        pass


def _terminated(signum, frame):
    raise KeyboardInterrupt  # the same clean-up as Ctrl+C, wherever the run is


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", action="store_true", help="only start the setup and wait (for a load test)")
    ap.add_argument("--database", default="crm_two_servers", help="the PostgreSQL database made (and dropped)")
    ap.add_argument("--from-database", help="copy this PostgreSQL database (e.g. one holding the district set) "
                                            "instead of loading the demo")
    ap.add_argument("--redis-db", type=int, default=14, help="the Redis database number used (and emptied)")
    ap.add_argument("--enterprises", type=int, help="demo files (default 40; --serve: 300)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    ap.add_argument("--writers", type=int, default=8, help="threads of the write load")
    ap.add_argument("--load-seconds", type=float, default=12, help="length of the write load; A dies half-way")
    ap.add_argument("--port", type=int, help="nginx's https port (default: a free one)")
    ap.add_argument("--http-port", type=int, help="nginx's plain-http port (default: a free one)")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder with the logs")
    a = ap.parse_args()
    for name in (a.database, a.from_database or "x"):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            ap.error("--database, --from-database: lower-case letters, digits and _")
    if a.from_database == a.database:
        ap.error("--from-database must differ from --database (which is dropped)")
    a.enterprises = a.enterprises or (300 if a.serve else 40)
    signal.signal(signal.SIGTERM, _terminated)
    setup = Setup(a)
    checks = Checks(setup)
    started = time.perf_counter()
    error = None
    try:
        setup.start()
        if a.serve:
            serve(setup)
            return 0
        checks.run_all()
    except Failed as exc:
        error = str(exc)
    except KeyboardInterrupt:
        error = "interrupted"
    finally:
        setup.close()
    if a.serve:
        if error:
            print(f"stopped: {error}", file=sys.stderr)
        return 1 if error else 0
    failed = [r for r in checks.results if not r[1]]
    print()
    if error:
        print(f"stopped: {error}")
    print(f"{len(checks.results)} checks in {time.perf_counter() - started:.0f} s")
    print(f"two_servers: {len(checks.results) - len(failed)} passed, {len(failed) + bool(error and not failed)} failed")
    return 1 if failed or error else 0


if __name__ == "__main__":
    sys.exit(main())

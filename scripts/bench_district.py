#!/usr/bin/env python3
"""Time every main page on a district-scale database (a benchmark, not a test).

    .venv/bin/python scripts/bench_district.py --database-url URL [--requests 50] [--warmup 5]
        [--json out.json] [--skip-export] [--export-requests 3] [--admin admin] [--password P]
        [--only dashboard,report] [--term2 物流] [--term4 宏达物流] [--pinyin ytsd,yuantong,圆通sd,jd]

URL defaults to $CRM_DATABASE_URL; the database is expected to be loaded already (e.g. by
`crm demo load --scale district`). The app is created in this process and driven through Flask's
test client (no network): each request is timed with time.perf_counter() from the call to the end
of reading the body (server time: routing, views, queries, templates), and its SQL statements are
counted with a handler on the "peewee" logger (peewee logs every statement there at DEBUG); the
process's CPU time of each request (time.process_time(): with SQLite it holds the database's work,
with PostgreSQL only the app's) is recorded beside it, as the machine may be shared. A
hello-world route registered on the same app, behind the same hooks, is measured the same way as
the floor, so each figure can also be read as a multiple of it. Once the app is created the
objects loaded so far are frozen out of the garbage collector, as `crm serve` does in each worker
(crm.cli.serve.settle).

Search terms are taken from the names: the commonest 2-character word (many matches) and a
4-character brand-and-trade pair matching 1-20 files; the credit-code searches use the first 8
characters of a real code and a longer prefix matching at most 50 files; the pinyin searches
(--pinyin, initials, full syllables, mixed, two letters) are timed on the list and on the picker
(/enterprises/lookup) beside the 2-character word. The long timeline is the
file with the most visits. Every page gets --warmup unrecorded requests, then --requests recorded
ones; the enterprise export (all files, archived included) gets --export-requests (default 3) and
one more, untimed, under tracemalloc for its peak Python allocations (the process's peak RSS from
getrusage is reported too). Pages are requested as the admin (district scope)
unless the label names another user: a supervisor and a staff member of the town with the most
files. Their sessions are put in place as tests/conftest.py's login_as does; only the "login"
row posts the real form (scrypt, slow by design).

The rows named "list …" are a matrix: every filter of the enterprise list alone, the common
combinations and the other lists a town works with (ledgers, follow-ups, the roster), each requested
as the admin, the town's supervisor and its staff member with the same URL, in turns (a request
of each per round, so that the three meet the same state of the machine); at the end a table
gives, per list, the three p50/p95/CPU figures and the ratio town / admin (the worse of the two),
of p95 and of CPU p50 (`--only "list "` runs the matrix alone).

What it writes to the database: every visit-form POST creates a visit (one per request, warm-up
included, each with a fresh form key, on one file of the staff member's town), and each login
updates the admin's last_login_at. Nothing else is changed.
"""
import argparse
import atexit
import json
import logging
import math
import os
import platform
import re
import resource
import secrets
import shutil
import sys
import tempfile
import time
import tracemalloc
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CJK = re.compile(r"^[\u4e00-\u9fff]+$")
# Legal-form boilerplate and numbering: a search for them is not what people type.
BOILERPLATE_RE = re.compile(r"北京市|北京|大兴区|股份有限公司|有限责任公司|有限公司|分公司|公司|集团|"
                            r"合伙|股份|有限|责任|[（）()]|[0-9０-９]+|号店|[A-Za-z]+")
BIG_TABLES = ["org_unit", "app_user", "enterprise", "contact", "enterprise_change", "founding_event",
              "visit", "visit_visitor", "meeting", "meeting_enterprise", "training", "training_enterprise",
              "service_activity", "need", "follow_up", "record_change"]


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        user = parts.username or ""
        return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))
    return url


def percentile(ordered, p):
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1))]


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.n = 0

    def emit(self, record):
        if isinstance(record.msg, tuple):  # peewee: logger.debug((sql, params))
            self.n += 1


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def put_session(client, user):
    """As tests/conftest.py's login_as: the session a completed login leaves."""
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["login_at"] = datetime.now(timezone.utc).timestamp()
        sess.permanent = True
    return client


# ---- picking what to request ----------------------------------------------------------------

def pick_targets(a):
    """Users, units, files and search terms taken from the database itself."""
    from peewee import fn

    from crm.auth.models import User
    from crm.enterprises.models import Enterprise
    from crm.enterprises import search
    from crm.org.models import OrgUnit
    from crm.visits.models import Visit

    t = {}
    admin = User.get_or_none(User.username == a.admin)
    if admin is None or admin.role != "admin":
        sys.exit(f"no admin account named {a.admin!r} (use --admin)")
    t["admin"] = admin

    # The town with the most files in its subtree that has a supervisor and a staff member.
    per_unit = dict(Enterprise.select(Enterprise.org_unit, fn.COUNT(Enterprise.id))
                    .where(Enterprise.archived == False).group_by(Enterprise.org_unit).tuples())  # noqa: E712
    units = list(OrgUnit.select())
    towns = [u for u in units if u.kind == "town" and u.active]

    def subtree_count(unit):
        return sum(per_unit.get(u.id, 0) for u in units if u.path.startswith(unit.path))

    def person(role, unit):
        own = (User.select().where(User.role == role, User.active == True, User.org_unit == unit.id)  # noqa: E712
               .order_by(User.id).first())
        if own is not None:
            return own
        return (User.select().join(OrgUnit).where(User.role == role, User.active == True,  # noqa: E712
                                                  OrgUnit.path.startswith(unit.path)).order_by(User.id).first())

    town = supervisor = staff = None
    for unit in sorted(towns, key=lambda u: (-subtree_count(u), u.id)):
        sup, stf = person("supervisor", unit), person("staff", unit)
        if sup is not None and stf is not None:
            town, supervisor, staff = unit, sup, stf
            break
    if town is None:
        sys.exit("no town unit with both a supervisor and a staff member: is the database loaded?")
    t.update(town=town, town_files=subtree_count(town), supervisor=supervisor, staff=staff)
    # The town's station with the most files (the matrix's org= filter).
    stations = [u for u in units if u.path.startswith(town.path) and u.id != town.id]
    t["station"] = max(stations, key=lambda u: (per_unit.get(u.id, 0), -u.id), default=None)

    # The file with the longest timeline (the most visits), viewed by the admin.
    top = (Visit.select(Visit.enterprise, fn.COUNT(Visit.id).alias("n")).group_by(Visit.enterprise)
           .order_by(fn.COUNT(Visit.id).desc(), Visit.enterprise).limit(1).tuples().first())
    if top is None:
        sys.exit("no visits in the database: is it loaded?")
    t["file"], t["file_visits"] = Enterprise.get_by_id(top[0]), top[1]

    # A file of the staff member's scope to log visits on (the long-timeline one if it is there).
    scope = OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(staff.org_unit.path))
    if t["file"].org_unit_id in {u.id for u in scope} and not t["file"].archived:
        t["visit_file"] = t["file"]
    else:
        t["visit_file"] = (Enterprise.select().where(Enterprise.org_unit.in_(scope), Enterprise.archived == False)  # noqa: E712
                           .order_by(Enterprise.id).first())
    if t["visit_file"] is None:
        sys.exit(f"no active file in {staff.org_unit.name} for the visit form")

    # Filter values: the commonest stage, industry and category.
    def commonest(field):
        row = (Enterprise.select(field, fn.COUNT(Enterprise.id)).where(Enterprise.archived == False, field != "")  # noqa: E712
               .group_by(field).order_by(fn.COUNT(Enterprise.id).desc(), field).limit(1).tuples().first())
        return row[0] if row else ""
    t["stage"], t["industry"], t["category"] = (commonest(Enterprise.stage), commonest(Enterprise.industry),
                                                commonest(Enterprise.category))

    # Search terms from real names: a 2-character term matching many files, a 4-character one few.
    low, high = Enterprise.select(fn.MIN(Enterprise.id), fn.MAX(Enterprise.id)).tuples().first()
    if low is None:
        sys.exit("no enterprises in the database: is it loaded?")
    sample_ids = list(range(low, high + 1, max(1, (high - low + 1) // 5000)))[:5000]  # spread over the table
    names = [r[0] for r in Enterprise.select(Enterprise.name).where(Enterprise.id.in_(sample_ids))
             .order_by(Enterprise.id).tuples()]

    def matches(term):
        return Enterprise.select().where(search.condition(Enterprise, term)).count()

    # Names cut at the legal-form boilerplate and digits, so grams do not straddle "服务|有限".
    segments = [seg for n in names for seg in BOILERPLATE_RE.split(n) if len(seg) >= 2]
    bigrams = Counter(seg[i:i + 2] for seg in segments for i in range(len(seg) - 1) if CJK.match(seg[i:i + 2]))
    if a.term2:
        t["term2"] = a.term2
    else:
        t["term2"] = bigrams.most_common(1)[0][0] if bigrams else "物流"
    if a.term4:
        t["term4"] = a.term4
    else:
        # Two common words (a brand and a trade, like 宏达物流) that rarely occur together.
        grams = Counter(seg[i:i + 4] for seg in segments for i in range(len(seg) - 3) if CJK.match(seg[i:i + 4]))
        rare = sorted(g for g, c in grams.items()
                      if c == 1 and g[:2] != g[2:] and bigrams[g[:2]] >= 5 and bigrams[g[2:]] >= 5)
        t["term4"] = "宏达物流"
        for gram in rare[::max(1, len(rare) // 25)][:25]:  # a spread of candidates, in a fixed order
            if 1 <= matches(gram) <= 20:
                t["term4"] = gram
                break
    coded = Enterprise.select(Enterprise.credit_code).where(Enterprise.credit_code != "")
    first = coded.order_by(Enterprise.id).limit(1).scalar() or "91110115000000000X"
    middle = coded.order_by(Enterprise.id).offset(coded.count() // 2).limit(1).scalar() or first
    t["code8"] = first[:8]
    # and a selective one: the shortest prefix of a code mid-table matching at most 50 files
    t["code_long"] = next((middle[:n] for n in (12, 14, 16) if matches(middle[:n]) <= 50), middle)
    t["matches"] = {k: matches(t[k]) for k in ("term2", "term4", "code8", "code_long")}
    t["pinyin"] = [(term, matches(term)) for term in (a.pinyin.split(",") if a.pinyin else []) if term]
    return t


def town_lists(t):
    """[(name, url)]: each filter of the enterprise list alone (crm/enterprises/queries.py
    ListArgs), the common combinations, and the other lists a town works with."""
    from crm.common.timeutil import local_today
    today = local_today()
    year = today.replace(month=1, day=1).isoformat()
    station = t.get("station")
    ent = [("no filter", ""), ("page 2", "page=2"), ("page 100", "page=100"),
           ("union_status=none", "union_status=none"), ("union_status=preparing", "union_status=preparing"),
           ("union_status=founded", "union_status=founded"), (f"stage={t['stage']}", f"stage={t['stage']}"),
           ("is_key=1", "is_key=1"), ("is_key=0", "is_key=0"), (f"industry={t['industry']}", f"industry={t['industry']}"),
           (f"category={t['category']}", f"category={t['category']}"), ("status=suspended", "status=suspended"),
           ("contact=never", "contact=never"), ("contact=30", "contact=30"), ("contact=90", "contact=90"),
           ("contact=365", "contact=365"), ("contact=year", "contact=year"), ("archived=1", "archived=1"),
           ("archived=all", "archived=all"), ("size=25", "size=25"), ("active=1", "active=1"),
           ("visit_q=none", "visit_q=none"), ("founded this year", f"founded_from={year}&founded_to={today.isoformat()}"),
           ("sort=name", "sort=name"), ("sort=employees", "sort=employees"), ("sort=created", "sort=created"),
           (f"q={t['term2']}", urlencode({"q": t["term2"]})), (f"q={t['term4']}", urlencode({"q": t["term4"]})),
           ("q=jd", "q=jd"),
           # combinations: the dashboard's links and what a town's staff filter by together
           ("founded + key", "union_status=founded&is_key=1"), ("active + size=25", "active=1&size=25"),
           ("active + size=25 + none", "active=1&size=25&union_status=none"),
           ("key + visit_q=none", "is_key=1&visit_q=none"), ("stage + industry", f"stage={t['stage']}&industry={t['industry']}"),
           ("contact=90 + key", "contact=90&is_key=1"), ("none + sort=name", "union_status=none&sort=name"),
           (f"q={t['term2']} + founded", urlencode({"q": t["term2"], "union_status": "founded"})),
           ("industry + sort=employees", f"industry={t['industry']}&sort=employees")]
    if station is not None:
        ent += [("org=station", f"org={station.id}"), ("org=station + none", f"org={station.id}&union_status=none")]
    out = [(f"enterprises {name}", "/enterprises/" + (f"?{q}" if q else "")) for name, q in ent]
    out += [("visits", "/visits/"), ("visits kind=door", "/visits/?kind=door"),
            ("visits this year", f"/visits/?date_from={year}"), ("visits page 50", "/visits/?page=50"),
            ("meetings", "/meetings/"), ("meetings this year", f"/meetings/?date_from={year}"),
            ("trainings", "/trainings/"), ("activities", "/activities/"),
            ("needs", "/needs/"), ("needs status=open", "/needs/?status=open"),
            ("follow-ups", "/followups/"), ("follow-ups status=all", "/followups/?status=all"),
            ("follow-ups due=overdue", "/followups/?due=overdue"), ("follow-ups status=done", "/followups/?status=done"),
            ("members", "/members/")]
    return out


def ratio_table(rows):
    """Per list of the matrix: admin, supervisor and staff p50/p95/CPU, and town / admin. CPU: the
    app's p50, plus on PostgreSQL the database backend's mean per request."""
    def cpu(r):
        return r["cpu_p50_ms"] + (r.get("server_cpu_mean_ms") or 0)

    by = {}
    for r in rows:
        m = re.match(r"^list (.*) \[(admin|supervisor|staff)\]$", r["page"])
        if m:
            by.setdefault(m.group(1), {})[m.group(2)] = r
    lines = [f"{'list':40} {'admin p50/p95/cpu':>20} {'supervisor':>20} {'staff':>20} {'town/admin p95':>15} "
             f"{'cpu':>6}"]
    out = []
    for name, whose in by.items():
        if "admin" not in whose:
            continue
        adm = whose["admin"]
        cells, worst_p95, worst_cpu = [], 0.0, 0.0
        for who in ("admin", "supervisor", "staff"):
            r = whose.get(who)
            if r is None:
                cells.append("—")
                continue
            cells.append(f"{r['p50_ms']:.1f}/{r['p95_ms']:.1f}/{cpu(r):.1f}")
            if who != "admin":
                worst_p95 = max(worst_p95, r["p95_ms"] / adm["p95_ms"] if adm["p95_ms"] else 0)
                worst_cpu = max(worst_cpu, cpu(r) / cpu(adm) if cpu(adm) else 0)
        lines.append(f"{pad(name, 40)} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20} {worst_p95:14.2f}× {worst_cpu:5.2f}×")
        out.append({"list": name, "admin": adm["p95_ms"], "ratio_p95": round(worst_p95, 2),
                    "ratio_cpu_p50": round(worst_cpu, 2),
                    "p95": {w: whose[w]["p95_ms"] for w in whose}, "cpu": {w: round(cpu(whose[w]), 2) for w in whose}})
    return lines, out


def row_counts():
    from crm.db import db
    out = {}
    for table in BIG_TABLES:
        try:
            out[table] = db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        except Exception as exc:  # a table this version does not have
            out[table] = f"error: {type(exc).__name__}"
            db.rollback()
    return out


# ---- measuring -----------------------------------------------------------------------------

class Bench:
    def __init__(self, counter, only=None):
        self.counter = counter
        self.rows = []
        self.floor = None
        self.only = [w.strip() for w in only.split(",") if w.strip()] if only else None
        self.server_pid = None  # PostgreSQL: the backend serving the app's (one, pooled) connection
        self.find_server_pid = None  # PostgreSQL: reads it again (the pool may have opened another)

    def server_cpu(self):
        """The PostgreSQL backend's CPU time so far in ms (utime + stime from /proc, in clock
        ticks of 10 ms: read as a mean over the requests), or None."""
        if self.server_pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def measure(self, label, prepare, n, warmup, expect=200, who="admin", path=None):
        """prepare() (untimed) returns (client, method, path, data); the request is then timed."""
        rows = self.measure_in_turns([(label, prepare, who, path)], n, warmup, expect)
        return rows[0] if rows else None

    def measure_in_turns(self, specs, n, warmup, expect=200):
        """Pages measured in turns, [(label, prepare, who, path)]: each round requests each page
        once, so that they meet the same state of the machine, and a ratio between them (a town's
        list to the admin's) is not the machine's drift from one page's requests to the next's.
        One page alone is measured as before, with its PostgreSQL backend's CPU time."""
        specs = [s for s in specs if not self.only or s[0].startswith("hello-world")
                 or any(w in s[0] for w in self.only)]
        if not specs:
            return []
        samples = [{"times": [], "cpus": [], "counts": [], "failures": [], "size": 0, "shown": None, "broken": False}
                   for _ in specs]
        server_started = None
        for i in range(warmup + n):
            if i == warmup and len(specs) == 1:
                if self.find_server_pid is not None:
                    self.server_pid = self.find_server_pid()
                server_started = self.server_cpu()
            for (label, prepare, _who, _path), got in zip(specs, samples):
                if got["broken"]:
                    continue
                try:
                    client, method, url, data = prepare()
                except Exception as exc:
                    got["failures"].append(f"prepare: {type(exc).__name__}: {exc}")
                    print(f"  !! {label}: could not prepare the request: {exc}", flush=True)
                    got["broken"] = True
                    continue
                got["shown"] = url
                self.counter.n = 0
                cpu_started = time.process_time()
                started = time.perf_counter()
                try:
                    resp = client.open(url, method=method, data=data)
                    body = resp.get_data()
                    status = resp.status_code
                except Exception as exc:  # a bug in the app surfaced through the test client
                    body, status = str(exc).encode(), f"{type(exc).__name__}"
                elapsed = (time.perf_counter() - started) * 1000
                cpu = (time.process_time() - cpu_started) * 1000
                queries = self.counter.n
                if status != expect:
                    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace")))[:160]
                    got["failures"].append(f"request {i + 1}: status {status}: {text.strip()}")
                    if len(got["failures"]) <= 3:  # the first few; the row counts them all
                        print(f"  !! {label}: {method} {url} -> {status} (expected {expect}): {text.strip()}",
                              flush=True)
                if i >= warmup:
                    got["times"].append(elapsed)
                    got["cpus"].append(cpu)
                    got["counts"].append(queries)
                    got["size"] = max(got["size"], len(body))
        server_ended = self.server_cpu() if len(specs) == 1 else None
        rows = []
        for (label, _prepare, who, path), got in zip(specs, samples):
            times, cpus, counts = sorted(got["times"]), sorted(got["cpus"]), got["counts"]
            row = {"page": label, "who": who, "path": path or got["shown"], "n": len(times),
                   "p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2),
                   "max_ms": round(times[-1], 2) if times else float("nan"),
                   "mean_ms": round(sum(times) / len(times), 2) if times else float("nan"),
                   "cpu_p50_ms": round(percentile(cpus, 0.5), 2), "cpu_p95_ms": round(percentile(cpus, 0.95), 2),
                   "server_cpu_mean_ms": (round((server_ended - server_started) / len(times), 2)
                                          if times and server_ended is not None and server_started is not None
                                          else None),
                   "queries_max": max(counts) if counts else None, "queries_min": min(counts) if counts else None,
                   "bytes": got["size"], "expected_status": expect, "failures": got["failures"],
                   "in_turns": len(specs) > 1}
            row["ratio"] = round(row["p50_ms"] / self.floor, 1) if self.floor and times else None
            self.rows.append(row)
            print(format_row(row), flush=True)
            rows.append(row)
        return rows


def pad(text, width):
    """Left-align to a display width (a Chinese character takes two columns)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


HEAD = (f"{'page':48} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'cpu p50':>8} {'cpu p95':>8} "
        f"{'queries':>7} {'p50/floor':>10}")


def format_row(r):
    ratio = f"{r['ratio']:.1f}×" if r.get("ratio") is not None else "—"
    q = "—" if r["queries_max"] is None else str(r["queries_max"])
    flag = f"  [{len(r['failures'])} failed]" if r["failures"] else ""
    server = f"  db cpu {r['server_cpu_mean_ms']:.1f}" if r.get("server_cpu_mean_ms") is not None else ""
    return (f"{pad(r['page'], 48)} {r['n']:4d} {r['p50_ms']:9.1f} {r['p95_ms']:9.1f} {r['max_ms']:9.1f} "
            f"{r.get('cpu_p50_ms', float('nan')):8.1f} {r.get('cpu_p95_ms', float('nan')):8.1f} {q:>7} {ratio:>10}"
            f"{server}{flag}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("CRM_DATABASE_URL"),
                    help="default: $CRM_DATABASE_URL")
    ap.add_argument("--requests", type=int, default=50, help="recorded requests per page (default 50)")
    ap.add_argument("--warmup", type=int, default=5, help="unrecorded requests per page first (default 5)")
    ap.add_argument("--json", help="where to write the results (default: a file in the temp directory)")
    ap.add_argument("--skip-export", action="store_true", help="leave out the 100,000-row export")
    ap.add_argument("--export-requests", type=int, default=3, help="timed exports (default 3)")
    ap.add_argument("--admin", default="admin", help="the admin account (default admin)")
    ap.add_argument("--password", default="Daxing-2026", help="its password, for the login row")
    ap.add_argument("--only", help="measure only the pages whose label contains one of these comma-separated "
                                   "words (e.g. dashboard,report); the floor is always measured")
    ap.add_argument("--term2", help="the 2-character search term (default: picked from the names)")
    ap.add_argument("--term4", help="the 4-character search term (default: picked from the names)")
    ap.add_argument("--pinyin", default="ytsd,yuantong,圆通sd,jd",
                    help="pinyin search terms, comma-separated (default ytsd,yuantong,圆通sd,jd; '' for none)")
    a = ap.parse_args()
    if not a.database_url:
        ap.error("give --database-url or set CRM_DATABASE_URL")

    environ = dict(os.environ)
    environ["CRM_DATABASE_URL"] = a.database_url
    # Nothing is written to ./instance: a throwaway key and instance directory unless given.
    environ.setdefault("CRM_SECRET_KEY", secrets.token_hex(16))
    scratch = None
    if not environ.get("CRM_INSTANCE_DIR"):
        scratch = environ["CRM_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="crm-bench-district-")
        atexit.register(shutil.rmtree, scratch, True)
    from config import Config
    from crm import create_app
    from crm.db import db, is_sqlite
    app = create_app(Config(environ))
    app.add_url_rule("/__bench_hello", "bench_hello", lambda: "ok")  # the floor: before any request
    from crm.cli.serve import settle
    settle()  # as each `crm serve` worker does once the app is loaded

    started_at = datetime.now(timezone.utc)
    with app.app_context():
        db.connect(reuse_if_open=True)
        from crm import schema
        pending = schema.pending()
        counts = row_counts()
        print(f"database: {redact(a.database_url)} ({'SQLite' if is_sqlite() else 'PostgreSQL'})")
        print("rows: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in counts.items()))
        picked = time.perf_counter()
        t = pick_targets(a)
        with app.test_request_context():
            from crm.fieldwork.timeline import timeline
            t["file_timeline"] = timeline(t["file"], t["admin"], 1).total
        db.close()
    print(f"targets (picked in {time.perf_counter() - picked:.1f} s): town {t['town'].name} (id {t['town'].id}, "
          f"{t['town_files']:,} files), supervisor {t['supervisor'].username}, staff {t['staff'].username}; "
          f"file #{t['file'].id} {t['file'].name} ({t['file_visits']} visits, {t['file_timeline']} timeline items); "
          f"visits logged on #{t['visit_file'].id}")
    print(f"search: {t['term2']!r} ({t['matches']['term2']:,} files), {t['term4']!r} ({t['matches']['term4']:,}), "
          f"code {t['code8']!r} ({t['matches']['code8']:,}), {t['code_long']!r} ({t['matches']['code_long']:,})")
    if t["file_timeline"] < 200:
        print(f"  note: the longest timeline has {t['file_timeline']} items (fewer than 200)")
    if pending:
        print(f"  note: migrations not applied: {', '.join(pending)}")

    counter = QueryCounter()
    logger = logging.getLogger("peewee")
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    admin = put_session(app.test_client(), t["admin"])
    sup = put_session(app.test_client(), t["supervisor"])
    staff = put_session(app.test_client(), t["staff"])
    anon = app.test_client()
    n, w = a.requests, a.warmup
    bench = Bench(counter, a.only)
    if not is_sqlite():
        def backend_pid():
            with app.app_context():
                pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
                db.close()  # back to the pool, for the requests
                return pid
        bench.find_server_pid = backend_pid

    def get(client, url):
        return lambda: (client, "GET", url, None)

    print()
    print("measuring (each row as it completes):")
    print(HEAD)
    floor = bench.measure("hello-world route (floor)", get(admin, "/__bench_hello"), n, w)
    bench.floor = floor["p50_ms"] or None
    floor["ratio"] = 1.0 if bench.floor else None

    # login: the real form, a fresh client each time (the token from an untimed GET /login)
    logins = {"n": 0}

    def login():
        logins["n"] += 1
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        return client, "POST", "/login", {"username": a.admin, "password": a.password, "csrf_token": token}
    bench.measure("login page (GET, anonymous)", get(anon, "/login"), n, w, who="anonymous")
    bench.measure("login (POST, scrypt)", login, n, w, expect=302, path="/login")

    bench.measure("home (staff)", get(staff, "/"), n, w, who="staff")
    bench.measure("home (supervisor)", get(sup, "/"), n, w, who="supervisor")
    bench.measure("home (admin)", get(admin, "/"), n, w)

    town = t["town"].id
    lists = [
        ("enterprises, no filter", ""),
        ("enterprises, page 1,000", "page=1000"),
        ("enterprises, org (town subtree)", f"org={town}"),
        ("enterprises, union_status=founded", "union_status=founded"),
        (f"enterprises, stage={t['stage']}", f"stage={t['stage']}"),
        ("enterprises, is_key=1", "is_key=1"),
        (f"enterprises, industry={t['industry']}", f"industry={t['industry']}"),
        (f"enterprises, category={t['category']}", f"category={t['category']}"),
        ("enterprises, status=suspended", "status=suspended"),
        ("enterprises, contact=never", "contact=never"),
        ("enterprises, contact=90", "contact=90"),
        ("enterprises, contact=year", "contact=year"),
        ("enterprises, archived=1", "archived=1"),
        ("enterprises, size=25", "size=25"),
        ("enterprises, active=1", "active=1"),
        ("enterprises, visit_q=none", "visit_q=none"),
        ("enterprises, sort=name", "sort=name"),
        ("enterprises, sort=employees", "sort=employees"),
        ("enterprises, sort=created, page 1,000", "sort=created&page=1000"),
        ("enterprises, town + founded + key", f"org={town}&union_status=founded&is_key=1"),
        (f"search 2 chars {t['term2']} ({t['matches']['term2']:,})", urlencode({"q": t["term2"]})),
        (f"search 4 chars {t['term4']} ({t['matches']['term4']:,})", urlencode({"q": t["term4"]})),
        (f"search code {t['code8']} ({t['matches']['code8']:,})", urlencode({"q": t["code8"]})),
        (f"search code {t['code_long']} ({t['matches']['code_long']:,})", urlencode({"q": t["code_long"]})),
        (f"search {t['term2']}, page 2", urlencode({"q": t["term2"], "page": 2})),
    ]
    for label, query in lists:
        bench.measure(label, get(admin, "/enterprises/" + (f"?{query}" if query else "")), n, w)
    for term, found in t["pinyin"]:
        bench.measure(f"search pinyin {term} ({found:,})", get(admin, "/enterprises/?" + urlencode({"q": term})), n, w)
    for term in [p for p, _ in t["pinyin"]] + [t["term2"]]:
        bench.measure(f"picker {term}", get(admin, "/enterprises/lookup?" + urlencode({"q": term})), n, w)
    bench.measure("enterprises, no filter (staff)", get(staff, "/enterprises/"), n, w, who="staff")
    bench.measure(f"search {t['term2']} (staff)", get(staff, "/enterprises/?" + urlencode({"q": t["term2"]})),
                  n, w, who="staff")

    # Every list filter as the admin (the district), the town's supervisor and its staff member
    # (the town's files only): the same URL for each, and the ratio town / admin at the end.
    matrix = town_lists(t)
    for name, url in matrix:  # the three in turns: their ratios are not the machine's drift
        bench.measure_in_turns([(f"list {name} [{who}]", get(client, url), who, url)
                                for who, client in (("admin", admin), ("supervisor", sup), ("staff", staff))], n, w)

    fid = t["file"].id
    bench.measure(f"file, {t['file_timeline']} timeline items", get(admin, f"/enterprises/{fid}"), n, w)
    bench.measure("file, timeline page 10", get(admin, f"/enterprises/{fid}?tl_page=10"), n, w)

    vid = t["visit_file"].id
    form_url = f"/enterprises/{vid}/visits/new"
    bench.measure("visit form (GET, staff)", get(staff, form_url), n, w, who="staff")
    token = {"posts": 0}

    def visit_post():
        from crm.common.timeutil import local_today
        from crm.sync.services import new_form_key
        if "csrf" not in token:
            token["csrf"] = csrf_from(staff.get(form_url).get_data(as_text=True))
        token["posts"] += 1
        return staff, "POST", form_url, {
            "csrf_token": token["csrf"], "form_key": new_form_key(), "visited_on": local_today().isoformat(),
            "visit_time": "10:30", "kind": "door", "purposes": ["policy"], "visitor_ids": [str(t["staff"].id)],
            "summary": "基准测试：上门走访，了解企业用工情况", "move_to": ""}
    bench.measure("visit form (POST, staff; creates a visit)", visit_post, n, w, expect=302, who="staff",
                  path=form_url)

    for label, url in [("visits ledger", "/visits/"), ("meetings ledger", "/meetings/"),
                       ("trainings ledger", "/trainings/"), ("activities ledger", "/activities/"),
                       ("needs ledger", "/needs/"), ("visits ledger, town", f"/visits/?org={town}"),
                       ("visits ledger, page 1,000", "/visits/?page=1000"),
                       ("visits ledger, town, page 1,000", f"/visits/?org={town}&page=1000")]:
        bench.measure(label, get(admin, url), n, w)
    bench.measure("visits ledger (staff's scope)", get(staff, "/visits/"), n, w, who="staff")
    bench.measure("follow-ups, my tasks (staff)", get(staff, "/followups/"), n, w, who="staff")
    bench.measure("team board (supervisor)", get(sup, "/followups/"), n, w, who="supervisor")
    bench.measure("team board (admin)", get(admin, "/followups/"), n, w)
    bench.measure("team board, everyone (admin)", get(admin, "/followups/?people=all"), n, w)
    bench.measure("suggestions (supervisor)", get(sup, "/followups/suggestions"), n, w, who="supervisor")
    bench.measure("suggestions (admin)", get(admin, "/followups/suggestions"), n, w)
    bench.measure("dashboard, district (year)", get(admin, "/dashboard/"), n, w)
    bench.measure("dashboard, town (year)", get(admin, f"/dashboard/?org={town}"), n, w)
    bench.measure("dashboard, district (month)", get(admin, "/dashboard/?period=month"), n, w)
    bench.measure("dashboard, town (month)", get(admin, f"/dashboard/?org={town}&period=month"), n, w)
    bench.measure("dashboard, district (supervisor)", get(sup, "/dashboard/"), n, w, who="supervisor")
    bench.measure("双沟通 grid (district)", get(admin, "/compliance/"), n, w)
    bench.measure("双沟通 grid (supervisor)", get(sup, "/compliance/"), n, w, who="supervisor")
    bench.measure("monthly report page (district)", get(admin, "/reports/monthly"), n, w)
    bench.measure("monthly report .xlsx (district)", get(admin, "/reports/monthly.xlsx"), n, w)

    export = row = None
    if not a.skip_export:
        url = "/enterprises/export.xlsx?archived=all"
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        row = bench.measure(f"enterprise export .xlsx ({counts.get('enterprise', 0):,} rows)", get(admin, url),
                            a.export_requests, 0)
    if row is not None and row["n"]:
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        tracemalloc.reset_peak()
        resp = admin.get(url)
        resp.get_data()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        export = {"rows": counts.get("enterprise"), "bytes": row["bytes"],
                  "peak_rss_mb_before": round(rss_before / 1024, 1), "peak_rss_mb_after": round(rss_after / 1024, 1),
                  "traced_peak_mb": round(traced_peak / 1024 / 1024, 1),
                  "how": "peak_rss: the process's maximum resident set (getrusage ru_maxrss) before and after "
                         "the timed exports (it only grows, so 'after' is the peak of the whole run so far); "
                         "traced_peak: tracemalloc's peak of Python allocations during one more, untimed, export"}
    bench.measure("hello-world route (again, at the end)", get(admin, "/__bench_hello"), n, w)

    ratio_lines, ratios = ratio_table(bench.rows)
    failed = [r for r in bench.rows if r["failures"]]
    print()
    print(HEAD)
    for r in bench.rows:
        print(format_row(r))
    print()
    if ratios:
        print("town / admin (the worst of supervisor and staff; p50/p95/CPU p50 in ms):")
        for line in ratio_lines:
            print(line)
        print()
    if export:
        print(f"export: {export['rows']:,} rows, {export['bytes'] / 1e6:.1f} MB; peak RSS {export['peak_rss_mb_before']} MB "
              f"before → {export['peak_rss_mb_after']} MB after the timed exports (getrusage); "
              f"tracemalloc peak during one export {export['traced_peak_mb']} MB")
    visits_made = token["posts"]
    print(f"data written: {visits_made} visit POSTs (each a new visit, fresh form key) on file #{t['visit_file'].id}; "
          f"{logins['n']} logins (each sets {a.admin}'s last_login_at)")
    if failed:
        print(f"{len(failed)} page(s) had unexpected responses:")
        for r in failed:
            print(f"  {r['page']}: {len(r['failures'])} × e.g. {r['failures'][0]}")
    else:
        print("every response had the expected status (200; 302 for the POSTs)")

    result = {
        "benchmark": "scripts/bench_district.py",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database_url": redact(a.database_url),
        "backend": "sqlite" if a.database_url.startswith("sqlite") else "postgresql",
        "row_counts": counts,
        "python": sys.version.split()[0], "platform": platform.platform(), "cpu_count": os.cpu_count(),
        "loadavg_at_end": list(os.getloadavg()),
        "settings": {"requests": a.requests, "warmup": a.warmup, "export_requests": None if a.skip_export else a.export_requests},
        "method": "in-process Flask test client; time.perf_counter() around the request incl. reading the body; "
                  "SQL statements counted on the 'peewee' logger; p50/p95 nearest-rank",
        "floor_p50_ms": bench.floor,
        "targets": {"town": {"id": t["town"].id, "name": t["town"].name, "files": t["town_files"]},
                    "admin": t["admin"].username, "supervisor": t["supervisor"].username,
                    "staff": t["staff"].username,
                    "file": {"id": t["file"].id, "name": t["file"].name, "visits": t["file_visits"],
                             "timeline_items": t["file_timeline"]},
                    "visit_file": t["visit_file"].id, "stage": t["stage"], "industry": t["industry"],
                    "category": t["category"],
                    "search": {k: {"term": t[k], "matches": t["matches"][k]} for k in ("term2", "term4", "code8", "code_long")}},
        "export": export,
        "data_written": {"visit_posts": visits_made, "visit_file": t["visit_file"].id,
                         "logins": logins["n"], "last_login_at_of": a.admin},
        "rows": bench.rows,
        "town_over_admin": ratios,
    }
    out = Path(a.json) if a.json else Path(tempfile.gettempdir()) / f"bench_district-{started_at:%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"results written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

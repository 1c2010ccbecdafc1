"""Hostile input never gives a 5xx: every GET route and every form the pages offer, for every role,
with huge and negative integers, floats like 1e309 and NaN, control characters, non-characters,
invalid UTF-8, 100,000-character strings, unknown choice keys, ids of other units and of archived
records.

A seeded generator (the same examples every run). CRM_FUZZ_EXAMPLES sets how many hostile bodies
each form gets (default 1) and how many hostile query strings each page gets (default 1), beside
the systematic ones (every field, every parameter at once, with each of three hostile values); the
README gives the longer run."""
import os
import random
from datetime import timedelta

import pytest

from crm.common.timeutil import local_today
from tests.conftest import login_as
from tests.fieldwork_helpers import post_forms

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "1"))
SEED = int(os.environ.get("CRM_FUZZ_SEED", "20261201"))

HUGE = ["99999999999999999999", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "9" * 400, "-1", "0", "2147483648", "1e309", "-1e309", "NaN", "inf", "1.5", "0x10", "١٢٣", "１２３"]
TEXT = ["\x00", "a\x00b", "\x1b[31m红\x1b[0m", "\x85\x9f", "\ufffe", "\uffff", "\U0010fffe", "\U0001f600",
        "x" * 100_000, "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%00", "\u202e逆序",
        " ", "", "zzz-unknown", "2026-02-30", "0000-00-00", "99999-12-31", "25:61", "2026-13-45"]
# Bytes that are not UTF-8, and a lone surrogate as the browser would send it (CESU bytes).
RAW = [b"\xff\xfe\xfd", b"\xed\xa0\x80", b"\xc0\xaf"]
PARAMS = ["org", "staff", "ent", "point", "assignee", "person", "page", "tl_page", "need", "followup", "q", "kind",
          "status", "due", "year", "month", "ym", "period", "rule", "date_from", "date_to", "sort", "group",
          "archived", "to", "next", "stage", "priority", "active", "size", "contact", "union_status", "role", "key"]
SKIP_POST = {"/logout"}  # ends the session the walk goes on with


@pytest.fixture
def world(make):
    """Two towns, every role in the first, records of every kind in both, some archived."""
    from crm.enterprises.services import set_archived
    from crm.followups.services import Task, create as create_followup
    from crm.meetings import services as meetings
    from crm.trainings import services as trainings
    from crm.activities import services as activities
    from crm.sync.services import new_form_key
    from crm.visits import services as visits
    mine, other = make.org("瀛海镇总工会"), make.org("庞各庄镇总工会")
    people = {role: make.user(role, org=mine) for role in ("staff", "supervisor", "viewer")}
    people["admin"] = make.user("admin")
    outsider = make.user("staff", org=other)
    firms = {"mine": make.enterprise(org=mine, name="京东物流瀛海站", user=people["staff"],
                                     contact={"name": "王经理", "phone": "13811112222"}),
             "other": make.enterprise(org=other, name="众美城物业", user=outsider),
             "archived": make.enterprise(org=mine, name="已注销企业", user=people["staff"])}
    set_archived(firms["archived"], people["staff"], True, "注销")
    today = local_today() - timedelta(days=1)
    ids = {}
    for key, ent, user in (("mine", firms["mine"], people["staff"]), ("other", firms["other"], outsider)):
        visit, _ = visits.create_visit(ent, {"visited_on": today, "kind": "door", "summary": "走访", "purposes": [],
                                             "visitor_ids": [user.id], "need_categories": ["legal"],
                                             "need_detail": "咨询"}, user, new_form_key(), {user.id})
        meeting, _ = meetings.create_meeting({"kind": "staff", "level": "routine", "format": "face",
                                              "org_unit": ent.org_unit_id, "held_on": today, "summary": "沟通会",
                                              "attendees": 5, "enterprise_ids": [ent.id], "new_members": {}},
                                             user, new_form_key())
        point, _ = meetings.create_point({"name": f"点位{key}", "kind": "supermarket", "org_unit": ent.org_unit_id},
                                         user, new_form_key())
        training, _ = trainings.create_training({"title": "培训", "category": "safety", "held_on": today,
                                                 "summary": "安全培训",
                                                 "org_unit": ent.org_unit_id, "enterprise_ids": [ent.id]},
                                                user, new_form_key())
        activity, _ = activities.create_activity({"title": "义务理发", "held_on": today, "org_unit": ent.org_unit_id,
                                                  "summary": "理发", "enterprise_ids": []}, user, new_form_key())
        followup, _ = create_followup(user, Task(title="回访", enterprise=ent), user, local_today(), "medium",
                                      new_form_key())
        from crm.needs.models import Need
        ids[key] = {"visit": visit.id, "meeting": meeting.id, "point": point.id, "training": training.id,
                    "activity": activity.id, "followup": followup.id, "ent": ent.id,
                    "need": Need.get(Need.visit == visit.id).id, "contact": ent.contacts.first().id
                    if ent.contacts.first() else 1, "unit": ent.org_unit_id, "user": user.id}
    return {"people": people, "ids": ids, "firms": firms}


def _record_kind(endpoint: str) -> str:
    blueprint, _, name = endpoint.partition(".")
    if blueprint == "meetings" and name.startswith("point"):
        return "point"
    return {"visits": "visit", "meetings": "meeting", "trainings": "training", "activities": "activity",
            "followups": "followup", "needs": "need"}.get(blueprint, "visit")


def _paths(app, world, rng):
    """Every GET route, with real ids of my unit, of the other unit, archived, missing and hostile."""
    ids, archived = world["ids"], world["firms"]["archived"].id
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static"):
            continue
        if not rule.arguments:
            out.append(rule.rule)
            continue
        for side in ("mine", "other", "archived", "missing"):
            values = {}
            for arg in rule.arguments:
                kind = {"ent_id": "ent", "contact_id": "contact", "unit_id": "unit", "user_id": "user",
                        "photo_id": "visit", "batch_id": "visit"}.get(arg) or _record_kind(rule.endpoint)
                if side == "archived":
                    values[arg] = archived if arg == "ent_id" else ids["mine"][kind]
                elif side == "missing":
                    values[arg] = rng.choice(["999999", "9223372036854775807", "0"])
                else:
                    values[arg] = ids[side][kind]
            path = rule.rule
            for arg, value in values.items():
                path = path.replace(f"<int:{arg}>", str(value)).replace(f"<{arg}>", str(value))
            out.append(path)
        # Beyond what the database holds: no route matches (404), never an overflow.
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "99999999999999999999").replace(f"<{arg}>", "x")
        out.append(path)
    return out


def _hostile(rng):
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(HUGE)
    if pick < 0.9:
        return rng.choice(TEXT)
    return rng.choice(RAW)


def _query(rng, ids):
    params = rng.sample(PARAMS, 4)
    values = [_hostile(rng) if rng.random() < 0.8 else str(ids["other"]["ent"]) for _ in params]
    from urllib.parse import quote_from_bytes
    parts = []
    for name, value in zip(params, values):
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(f"{name}={quote_from_bytes(raw[:2000])}")
    return "&".join(parts)


SYSTEMATIC = ["99999999999999999999", "-1", "\x00zzz-unknown\ufffe"]


def _all(names, value):
    from urllib.parse import quote
    return "&".join(f"{n}={quote(value)}" for n in names)


def _links(html):
    """Same-site links of a page (its query strings included): how the walk finds the forms that
    open with ?to=, ?followup=, ?point= …"""
    import re
    from html import unescape
    return {unescape(h) for h in re.findall(r'href="(/[^"#]*)', html)
            if not h.startswith(("/static/", "/bootstrap/", "/sw.js"))}


def _walk(app, client, world, rng, links=150):
    """The pages a user can reach: every route with ids of each kind, then the links those pages
    show (one of each shape). Yields (path, response, probe): probe marks one path per route and
    per link shape, the ones hostile query strings are tried on."""
    import re
    done, shapes = set(), set()
    queue = [(path, True) for path in _paths(app, world, rng)]
    found = 0
    while queue:
        path, from_route = queue.pop(0)
        shape = re.sub(r"\d+", "N", path)
        if path in done or (not from_route and shape in shapes):
            continue
        done.add(path)
        probe = shape not in shapes
        shapes.add(shape)
        resp = client.get(path)
        _check(resp, path)
        yield path, resp, probe
        if resp.status_code == 200 and resp.mimetype == "text/html" and found < links:
            new = [(h, False) for h in sorted(_links(resp.get_data(as_text=True)))
                   if re.sub(r"\d+", "N", h) not in shapes]
            found += len(new)
            queue.extend(new)


def _check(resp, what):
    assert resp.status_code < 500, f"{resp.status_code} on {what}"


@pytest.mark.parametrize("role", ["staff", "supervisor", "viewer", "admin"])
def test_every_get_route_survives_hostile_ids_and_queries(app, world, role):
    rng = random.Random(f"{SEED}-get-{role}")
    client = login_as(app.test_client(), world["people"][role])
    for path, _, probe in _walk(app, client, world, rng):
        if not probe:
            continue
        base = path.split("?")[0]
        for value in SYSTEMATIC:  # every parameter at once: whichever the page reads
            _check(client.get(f"{base}?{_all(PARAMS, value)}"), f"{base}?… = {value!r}")
        for _ in range(EXAMPLES):
            query = _query(rng, world["ids"])
            _check(client.get(f"{path}?{query}"), f"{path}?{query}")


def _body(fields, rng):
    """The form's own fields, a few of them (and a stray one) replaced by hostile values."""
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    names = [n for n in data if n != "csrf_token"] or ["x"]
    for name in rng.sample(names, min(len(names), rng.randint(1, 4))) + ["unexpected_field"]:
        value = _hostile(rng)
        data[name] = [value.decode("latin-1") if isinstance(value, bytes) else value]
    return data


@pytest.mark.parametrize("role", ["staff", "supervisor", "viewer", "admin"])
def test_every_form_survives_hostile_values(app, world, role):
    from crm.auth.models import User
    rng = random.Random(f"{SEED}-post-{role}")
    user = world["people"][role]
    client = login_as(app.test_client(), user)
    seen = set()
    for page, resp, _ in _walk(app, client, world, rng):
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        for action, fields in post_forms(resp.get_data(as_text=True)):
            target = (action or page).split("#")[0]
            names = tuple(sorted(n for n, _ in fields))
            if target in SKIP_POST or (target, names) in seen:
                continue
            seen.add((target, names))
            for _ in range(EXAMPLES):
                body = _body(fields, rng)
                _check(client.post(target, data=body, content_type="multipart/form-data"), f"POST {target} {body}")
                login_as(client, User.get_by_id(user.id))  # a post may have ended the session
            # Every field at once (the CSRF token kept), the control characters last: what a form
            # saves of them stays in the database for the pages and workbooks checked below.
            for value in SYSTEMATIC:
                body = {n: [value] for n in names if n != "csrf_token"}
                body["csrf_token"] = [v for n, v in fields if n == "csrf_token"][:1]
                _check(client.post(target, data=body, content_type="multipart/form-data"), f"POST {target} = {value!r}")
                login_as(client, User.get_by_id(user.id))
    assert len(seen) > (0 if role == "viewer" else 10), "the walk found the forms to post"
    # What the hostile posts left in the database: every workbook still answers and opens.
    import io
    from openpyxl import load_workbook
    month = local_today().strftime("%Y-%m")
    for path in ["/enterprises/export.xlsx", "/visits/export.xlsx", "/meetings/export.xlsx", "/trainings/export.xlsx",
                 "/activities/export.xlsx", "/needs/export.xlsx", "/followups/export.xlsx",
                 f"/reports/monthly.xlsx?ym={month}"]:
        resp = client.get(path)
        _check(resp, path)
        if resp.status_code == 200:
            load_workbook(io.BytesIO(resp.data))

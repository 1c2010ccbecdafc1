"""Walk every route with every role, in and out of scope.

Out of scope → 404; an action the role may not take → 403; anonymous → the login page.
Every endpoint must be classified below, so a new route cannot skip this check.
"""
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage

from crm.enterprises.models import Contact
from tests.conftest import csrf_token, login_as
from tests.fieldwork_helpers import jpeg

# The code and setup pages after a right password: without one, back to the login page.
PUBLIC = {"static", "bootstrap.static", "auth.login", "auth.login_code", "auth.login_recovery",
          "auth.login_setup", "sync.offline", "sync.service_worker",
          "members.join", "members.joined", "members.cancel",  # a worker's sign-up: its signed link is the key
          "health.healthz", "health.readyz"}  # for the load balancer (tests/test_health.py)
READ = {"home.index", "tokens.index", "notifications.index", "notifications.unread_count",
        "notifications.settings", "auth.change_password", "auth.two_factor", "auth.two_factor_setup", "enterprises.index", "enterprises.show",
        "enterprises.history", "enterprises.lookup",
        "visits.index", "visits.show", "visits.export", "needs.index", "needs.export",
        "photos.show", "photos.thumb", "founding.document",
        "meetings.index", "meetings.show", "meetings.export", "meetings.points", "meetings.point_show",
        "trainings.index", "trainings.show", "trainings.export",
        "activities.index", "activities.show", "activities.export", "activities.signup_code",
        "activities.signup_poster",
        "followups.index", "followups.export", "followups.show", "enterprises.export",
        "compliance.grid", "compliance.unit", "dashboard.index", "reports.monthly_page", "reports.monthly_xlsx",
        "meetings.points_export", "compliance.grid_export", "compliance.unit_export", "dashboard.export",
        "sync.state", "sync.outbox", "help.index",
        "members.meeting_code", "members.meeting_poster", "members.point_code", "members.point_poster",
        "members.meeting_live", "members.point_live",
        "roster.index", "roster.show", "roster.export", "jobs.index"}
EDIT = {"visits.pick", "enterprises.create", "enterprises.similar_names", "enterprises.edit", "enterprises.archive", "enterprises.restore",
        "enterprises.contact_new", "enterprises.contact_edit", "enterprises.contact_archive",
        "founding.move", "founding.add_documents", "founding.remove_document",
        "visits.create", "visits.edit", "visits.archive", "visits.restore",
        "needs.archive", "needs.restore", "photos.remove",
        "meetings.create", "meetings.edit", "meetings.archive", "meetings.restore",
        "meetings.point_new", "meetings.point_edit", "meetings.point_archive", "meetings.point_restore",
        "trainings.create", "trainings.edit", "trainings.archive", "trainings.restore",
        "activities.create", "activities.edit", "activities.archive", "activities.restore",
        "activities.check_in", "activities.cancel_signup",
        "followups.create", "followups.edit", "followups.status", "followups.from_visit",
        "followups.suggested", "followups.suggestions_export",
        "members.meeting_decide", "members.point_decide", "members.point_renew",
        "roster.edit", "roster.card", "roster.archive", "roster.restore"}
# Read for everyone in scope; POST (the handling form) for editors only.
READ_POST_EDIT = {"needs.show"}
SUPERVISE = {"enterprises.bulk_start", "enterprises.bulk_show", "enterprises.bulk_apply", "enterprises.bulk_undo",
             "visits.comment", "followups.reassign", "imports.index", "imports.upload", "imports.mapping",
             "imports.show", "imports.rejected", "imports.commit", "imports.status", "imports.analyse",
             "imports.retry",
             "roster.phone"}  # and only a 主管 of the member's own unit (tests/test_roster.py)
SELF = {"auth.logout", "auth.two_factor_recovery_codes", "auth.two_factor_off", "tokens.revoke",
        "notifications.open_note", "notifications.read", "notifications.read_all"}  # any logged-in user, POST only
# A user's own 后台任务 (an admin's: everyone's), by job id, not by unit: another user's is a 404
# for every role but admin, anonymous goes to the login page (tests/test_jobs.py walks them).
OWN_JOBS = {"jobs.show", "jobs.status", "jobs.download", "jobs.retry"}
ROLES = ("staff", "supervisor", "viewer", "admin")
ALLOWED = {"read": set(ROLES), "edit": {"staff", "supervisor", "admin"}, "admin": {"admin"},
           "supervise": {"supervisor", "admin"}}


ADMIN = {"compliance.rules", "audit.index", "audit.export", "roster.erase", "members.meeting_cap"}


def kind_of(endpoint):
    if endpoint.startswith(("api_", "api-docs.")):
        return None  # /api/v1 takes a token, not a session: tests/test_api*.py walk it
    if endpoint.startswith(("admin.", "webhooks.")) or endpoint in ADMIN:
        return "admin"
    if endpoint in READ | READ_POST_EDIT:
        return "read"
    if endpoint in EDIT:
        return "edit"
    if endpoint in SUPERVISE:
        return "supervise"
    if endpoint in SELF | PUBLIC | OWN_JOBS:
        return None
    raise AssertionError(f"endpoint {endpoint} is not classified in tests/test_routes.py")


def _records(app, ent, user, unit):
    """One record of every field-work kind for this enterprise / unit (models, not forms)."""
    from crm.activities.models import ActivityEnterprise, ServiceActivity
    from crm.meetings.models import Meeting, MeetingEnterprise, OutreachPoint
    from crm.needs.models import Need
    from crm.photos import services as photos
    from crm.trainings.models import Training, TrainingEnterprise
    from crm.visits.models import Visit, VisitVisitor
    today = date(2026, 5, 7)
    visit = Visit.create(enterprise=ent, visited_on=today, kind="door", summary="走访", created_by=user)
    VisitVisitor.create(visit=visit, user=user)
    with app.test_request_context():
        photos.stage([FileStorage(jpeg(), "a.jpg")], f"route-key-{ent.id}-abcdefgh", user)
        photos.attach("visit", visit.id, f"route-key-{ent.id}-abcdefgh", user)
        from crm.founding import documents
        from crm.founding.models import FoundingEvent
        event = FoundingEvent.get(FoundingEvent.enterprise == ent.id)
        document = documents.store(event, jpeg().getvalue(), "批复.jpg", user, "approval")
    point = OutreachPoint.create(name=f"点位{ent.id}", org_unit=unit, kind="supermarket", created_by=user)
    meeting = Meeting.create(kind="enterprise", org_unit=unit, held_on=today, summary="沟通会", point=point,
                             created_by=user)
    MeetingEnterprise.create(meeting=meeting, enterprise=ent)
    training = Training.create(title="培训", category="quality", held_on=today, org_unit=unit, summary="培训",
                               created_by=user)
    TrainingEnterprise.create(training=training, enterprise=ent)
    activity = ServiceActivity.create(title="义务理发", held_on=today, org_unit=unit, created_by=user)
    ActivityEnterprise.create(activity=activity, enterprise=ent)
    need = Need.create(org_unit=unit, enterprise=ent, visit=visit, category="legal", raised_on=today,
                       created_by=user)
    from crm.photos.models import Photo
    from crm.followups.models import FollowUp
    followup = FollowUp.create(title="回访", org_unit=unit, enterprise=ent, assignee=user, assigned_by=user,
                               due_on=today, created_by=user)
    return {"followups": followup, "visits": visit, "needs": need, "meetings": meeting, "point": point, "trainings": training,
            "activities": activity, "photo": Photo.get(Photo.kind == "visit", Photo.record_id == visit.id),
            "event": event, "document": document}


@pytest.fixture
def world(app, make, tmp_path):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    users = {role: make.user(role, org=town_a if role != "admin" else make.root()) for role in ROLES}
    mine = make.enterprise(org=town_a, name="甲镇企业", contact={"name": "甲联系人", "phone": "13800000001"})
    theirs = make.enterprise(org=town_b, name="乙镇企业", contact={"name": "乙联系人", "phone": "13800000002"})
    other = make.user("staff", org=town_b)
    records = {mine.id: _records(app, mine, users["staff"], town_a),
               theirs.id: _records(app, theirs, other, town_b)}
    from crm.imports.models import ImportBatch
    from crm import storage
    from crm.imports.services import KEYS
    with app.app_context():
        storage.current().put(KEYS + "route-walk.csv", "企业名称,所属工会\n甲镇新企业,甲镇总工会\n".encode())
        ledger = storage.current().local_path(KEYS + "route-walk.csv")
    batch = ImportBatch.create(file_name="台账.csv", stored_path=ledger.name, user=users["supervisor"], header_row=1,
                               headers='["企业名称", "所属工会"]', mapping='{"0": "name", "1": "org_unit"}')
    from crm.enterprises import bulk
    action = bulk.prepare(users["supervisor"], "key", {}, ids=[mine.id])
    from crm.members.models import Member
    members = {ent.id: Member.create(name=f"{ent.name}会员", group="courier", org_unit=ent.org_unit_id, state="active")
               for ent in (mine, theirs)}
    from crm.webhooks.models import WebhookDelivery, WebhookEndpoint
    hook = WebhookEndpoint.create(org_unit=town_a, name="推送", url="https://example.com/hook", events=",visit.created,",
                                  secret="s" * 64)
    delivery = WebhookDelivery.create(endpoint=hook, event="ping", event_id="route-walk", payload="{}", status="failed")
    return {"users": users, "mine": mine, "theirs": theirs, "unit": town_b, "records": records, "batch": batch,
            "bulk": action, "members": members, "hook_id": hook, "delivery_id": delivery}


def _record_for(rule, ent, world):
    recs = world["records"][ent.id]
    blueprint = rule.endpoint.split(".")[0]
    if rule.endpoint.startswith(("meetings.point", "members.point")):
        return recs["point"].id
    if rule.endpoint.startswith("members.meeting"):
        return recs["meetings"].id
    if rule.endpoint == "followups.from_visit":
        return recs["visits"].id
    return recs[blueprint].id


def build(rule, ent, world):
    values = {}
    for arg in rule.arguments:
        if arg == "ent_id":
            values[arg] = ent.id
        elif arg == "record_id":
            values[arg] = _record_for(rule, ent, world)
        elif arg == "photo_id":
            values[arg] = world["records"][ent.id]["photo"].id
        elif arg == "event_id":
            values[arg] = world["records"][ent.id]["event"].id
        elif arg == "doc_id":
            values[arg] = world["records"][ent.id]["document"].id
        elif arg == "contact_id":
            values[arg] = Contact.get(Contact.enterprise == ent).id
        elif arg == "unit_id" and not rule.endpoint.startswith("admin."):
            values[arg] = ent.org_unit_id  # a unit's own page: in scope for "mine", not for "theirs"
        elif "unit" in arg or arg == "org_id":
            values[arg] = world["unit"].id
        elif "user" in arg:
            values[arg] = world["users"]["staff"].id
        elif arg == "batch_id":
            values[arg] = world["batch"].id
        elif arg == "action_id":
            values[arg] = world["bulk"].id
        elif arg in ("hook_id", "delivery_id"):
            values[arg] = world[arg].id
        elif arg == "member_id":
            values[arg] = world["members"][ent.id].id  # a member recruited by the enterprise's unit
        elif arg == "filename":
            return None
        else:
            raise AssertionError(f"route {rule.rule} has an unknown argument {arg}")
    path = rule.rule
    for arg, value in values.items():
        path = path.replace(f"<int:{arg}>", str(value)).replace(f"<{arg}>", str(value))
    if rule.endpoint == "founding.move":
        path += "?to=contacted"
    return path


def rules(app):
    return [r for r in app.url_map.iter_rules() if kind_of(r.endpoint)]


def test_every_endpoint_is_classified(app):
    for rule in app.url_map.iter_rules():
        kind_of(rule.endpoint)


def test_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    for rule in rules(app):
        path = build(rule, world["mine"], world)
        if "GET" in rule.methods:
            resp = client.get(path)
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
        else:
            token = csrf_token(client, "/login")
            resp = client.post(path, data={"csrf_token": token})
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


@pytest.mark.parametrize("role", ROLES)
def test_role_in_and_out_of_scope(app, world, role):
    user = world["users"][role]
    client = login_as(app.test_client(), user)
    token = csrf_token(client, "/")
    checked = 0
    for rule in rules(app):
        kind = kind_of(rule.endpoint)
        allowed = role in ALLOWED[kind]
        targets = [("mine", world["mine"])]
        if {"ent_id", "record_id", "photo_id", "member_id"} & set(rule.arguments) or \
                ("unit_id" in rule.arguments and kind != "admin"):
            targets.append(("theirs", world["theirs"]))
        for where, ent in targets:
            path = build(rule, ent, world)
            if path is None:
                continue
            out_of_scope = where == "theirs" and role != "admin"
            if "GET" in rule.methods:
                status = client.get(path).status_code
                if not allowed:
                    expected = {403}
                elif out_of_scope:
                    expected = {404}
                else:
                    expected = {200}
                assert status in expected, f"{role} GET {path}: {status}, expected {expected}"
                checked += 1
            post_allowed = allowed and not (rule.endpoint in READ_POST_EDIT and role == "viewer")
            if "POST" in rule.methods and (not post_allowed or out_of_scope):
                status = client.post(path, data={"csrf_token": token}).status_code
                expected = {404} if out_of_scope and (allowed or rule.endpoint in READ_POST_EDIT) else {403}
                assert status in expected, f"{role} POST {path}: {status}, expected {expected}"
                checked += 1
    assert checked >= 20


def test_forbidden_buttons_are_absent_for_viewer(app, world):
    client = login_as(app.test_client(), world["users"]["viewer"])
    html = client.get(f"/enterprises/{world['mine'].id}").get_data(as_text=True)
    for label in ("编辑档案", "添加联系人", "推进到", "归档"):
        assert label not in html
    nav = client.get("/").get_data(as_text=True)
    assert "用户管理" not in nav and "新建档案" not in nav

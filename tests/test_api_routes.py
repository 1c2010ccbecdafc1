"""Walk every /api/v1 operation with a token of every role, in and out of scope, as
tests/test_routes.py walks the pages: a record of another unit is a 404 (as on the pages), a list
never shows one, and a read token writes nothing. Every API endpoint must be classified here."""
import pytest

from tests.api_helpers import bearer, token_for
from tests.test_routes import ROLES, world  # noqa: F401 (the fixture)

# The record an id argument names, per endpoint's blueprint.
RECORD = {"api_enterprises": None, "api_followups": "followups", "api_visits": "visits",
          "api_meetings": "meetings", "api_points": "point", "api_trainings": "trainings",
          "api_activities": "activities", "api_needs": "needs", "api_members": "member"}
# Lists (no id): what each returns, to look for the other unit's records in it.
LISTS = {"api_enterprises.Enterprises": "ent", "api_visits.Visits": "visits", "api_meetings.Meetings": "meetings",
         "api_points.Points": "point", "api_trainings.Trainings": "trainings",
         "api_activities.Activities": "activities", "api_needs.Needs": "needs", "api_followups.Mine": None,
         "api_members.Members": "member"}
# Not for a 走访干部 (the team board; its page is not either).
NOT_STAFF = {"api_followups.Board"}
PUBLIC = {"api-docs.openapi_json", "api_docs.page", "api_docs.asset", "api_entrances.root",
          "api_entrances.description"}
OTHER = {"api_dashboard.Dashboard", "api_reports.Monthly",  # a unit's figures, a meeting's sign-ups:
         "api_signups.SignUps"}  # tests/test_api_work.py


def api_rules(app):
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("api_", "api-docs.")):
            continue
        blueprint = rule.endpoint.split(".")[0]
        assert rule.endpoint in PUBLIC | OTHER | NOT_STAFF | set(LISTS) or blueprint in RECORD, \
            f"API endpoint {rule.endpoint} is not classified in tests/test_api_routes.py"
        if rule.endpoint not in PUBLIC | OTHER:
            out.append(rule)
    return out


def _id(rule, ent, world):
    name = RECORD[rule.endpoint.split(".")[0]]
    if name is None:
        return ent.id
    if name == "member":
        return world["members"][ent.id].id
    return world["records"][ent.id][name].id


def path_of(rule, ent, world):
    path = rule.rule
    for arg in rule.arguments:
        path = path.replace(f"<int:{arg}>", str(_id(rule, ent, world)))
    return path


def test_every_api_endpoint_is_classified(app):
    assert len(api_rules(app)) >= 20


@pytest.mark.parametrize("role", ROLES)
def test_reads_in_and_out_of_scope(app, world, role):
    user = world["users"][role]
    h = bearer(token_for(app, user, "read"))
    client = app.test_client()
    checked = 0
    for rule in api_rules(app):
        if "GET" not in rule.methods:
            continue
        allowed = rule.endpoint not in NOT_STAFF or role != "staff"
        targets = [("mine", world["mine"])]
        if rule.arguments:
            targets.append(("theirs", world["theirs"]))
        for where, ent in targets:
            path = path_of(rule, ent, world)
            r = client.get(path, headers=h)
            if not allowed:
                expected = 403
            elif where == "theirs" and role != "admin":
                expected = 404
            else:
                expected = 200
            assert r.status_code == expected, f"{role} GET {path}: {r.status_code}, expected {expected}"
            assert r.mimetype in ("application/json", "application/problem+json")
            checked += 1
            if expected == 200 and not rule.arguments and LISTS.get(rule.endpoint) and role != "admin":
                kind = LISTS[rule.endpoint]
                theirs = world["theirs"].id if kind == "ent" else _id_of(kind, world)
                ids = [item["id"] for item in r.get_json()["items"]]
                assert theirs not in ids, f"{role} GET {path} lists the other unit's record"
    assert checked >= 15


def _id_of(kind, world):
    if kind == "member":
        return world["members"][world["theirs"].id].id
    return world["records"][world["theirs"].id][kind].id


@pytest.mark.parametrize("role", ROLES)
def test_a_read_token_writes_nothing(app, world, role):
    h = bearer(token_for(app, world["users"][role], "read"))
    client = app.test_client()
    for rule in api_rules(app):
        for method in sorted(rule.methods & {"POST", "PATCH", "PUT", "DELETE"}):
            path = path_of(rule, world["mine"], world)
            r = client.open(path, method=method, json={}, headers=h)
            assert r.status_code == 403, f"{role} {method} {path}: {r.status_code}"
            assert r.mimetype == "application/problem+json"


def test_writes_out_of_scope_answer_as_for_no_record(app, world):
    """A write naming another unit's record gets what a write naming no record gets (404, or the
    same 422 when the body is refused before the record is looked up): nothing tells it exists."""
    h = bearer(token_for(app, world["users"]["supervisor"], "write"))
    client = app.test_client()
    checked = 0
    for rule in api_rules(app):
        if not rule.arguments:
            continue
        for method in sorted(rule.methods & {"POST", "PATCH", "PUT", "DELETE"}):
            theirs = client.open(path_of(rule, world["theirs"], world), method=method, json={}, headers=h)
            missing = client.open(rule.rule.replace(f"<int:{rule.arguments.copy().pop()}>", "99999"),
                                  method=method, json={}, headers=h)
            assert theirs.status_code == missing.status_code and theirs.status_code in (404, 422), rule.rule
            checked += 1
    assert checked >= 5

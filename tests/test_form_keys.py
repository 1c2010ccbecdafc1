"""A form key means one submission of one content, for every form that creates a record: the same
key with the same content is a re-send (the record saved first); the same key with other content
is refused with a Chinese message, every typed value kept and a fresh key given, nothing saved.
Run on SQLite and, with CRM_TEST_DATABASE_URL, on PostgreSQL.

Each form is posted as a browser would post it: every field the page renders, with its value,
plus what the test types."""
import re
import threading
from dataclasses import dataclass
from typing import Callable

import pytest

from crm.enterprises.models import Contact, Enterprise
from crm.followups.models import FollowUp
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, OutreachPoint
from crm.needs.models import Need
from crm.activities.models import ServiceActivity
from crm.photos.models import Photo
from crm.sync import services as submissions
from crm.sync.models import FormSubmission
from crm.trainings.models import Training
from crm.visits.models import Visit
from tests.conftest import login_as
from tests.fieldwork_helpers import jpeg, page_form, posted


@dataclass
class Case:
    name: str
    path: Callable  # (world) -> the form's URL
    typed: Callable  # (world) -> what the user types
    other: dict  # a change of content
    model: type  # what one submission makes (counted)
    shown: str  # a typed value the refused page must still show


CASES = [
    Case("visit", lambda w: f"/enterprises/{w['ent'].id}/visits/new",
         lambda w: {"summary": "见到人事经理，介绍建会流程", "need_categories": ["legal"], "need_detail": "劳动合同咨询"},
         {"summary": "第二次走访：另一件事"}, Visit, "第二次走访：另一件事"),
    Case("meeting", lambda w: "/meetings/new",
         lambda w: {"kind": "staff", "level": "routine", "format": "face", "venue": "首航超市门口",
                    "attendees": "30", "summary": "发放维权手册", "enterprise_ids": [str(w["ent"].id)]},
         {"attendees": "31"}, Meeting, "发放维权手册"),
    Case("training", lambda w: "/trainings/new",
         lambda w: {"title": "安全生产培训", "category": "safety", "hours": "2", "participants": "20",
                    "summary": "讲解安全生产", "enterprise_ids": [str(w["ent"].id)]},
         {"title": "消防培训"}, Training, "消防培训"),
    Case("activity", lambda w: "/activities/new",
         lambda w: {"title": "义务理发", "place": "暖心驿站", "participants": "15", "new_members": "2",
                    "summary": "为快递员理发"},
         {"place": "京东站点"}, ServiceActivity, "京东站点"),
    Case("point", lambda w: "/meetings/points/new",
         lambda w: {"name": "物美超市黄村店", "kind": "supermarket", "schedule": "每周三下午"},
         {"name": "首航超市"}, OutreachPoint, "首航超市"),
    Case("followup", lambda w: f"/followups/new?ent={w['ent'].id}",
         lambda w: {"title": "走访了解建会意向", "assignee": str(w["staff"].id)},
         {"title": "送达换届通知"}, FollowUp, "送达换届通知"),
    Case("enterprise", lambda w: "/enterprises/new",
         lambda w: {"name": "北京安泰包装制品有限公司"},
         {"name": "北京圆通速递宜家站点"}, Enterprise, "北京圆通速递宜家站点"),
    Case("contact", lambda w: f"/enterprises/{w['ent'].id}/contacts/new",
         lambda w: {"name": "王经理", "title": "人事经理", "phone": "13811112222"},
         {"name": "李主任"}, Contact, "李主任"),
    Case("stage", lambda w: f"/enterprises/{w['ent'].id}/stage?to=willing",
         lambda w: {"note": "老板同意召集职工座谈", "evidence_text": ""},
         {"note": "另一次变更的说明"}, FoundingEvent, "另一次变更的说明"),
]


@pytest.fixture
def world(make):
    org = make.org("瀛海镇总工会")
    staff = make.user("staff", org=org, name="李佳伟")
    ent = make.enterprise(org=org, name="瀛嘉汇老北京炸酱面馆", initial_stage="contacted")
    return {"org": org, "staff": staff, "ent": ent}


def _open(client, case, world):
    path = case.path(world)
    resp = client.get(path)
    assert resp.status_code == 200, path
    return path, page_form(resp.get_data(as_text=True))


def _post(client, path, fields, typed, **kw):
    return client.post(path, data=posted(fields, typed), content_type="multipart/form-data", **kw)


def _count(case):
    return case.model.select().count()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_key_same_content_is_one_record(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, case, world)
    before = _count(case)
    first = _post(client, path, fields, case.typed(world))
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert _count(case) == before + 1
    again = _post(client, path, fields, case.typed(world))  # a re-send: a double tap, a lost answer
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert _count(case) == before + 1
    key = dict(fields)["form_key"]
    row = FormSubmission.get(FormSubmission.key == key)
    assert row.kind == case.name and row.user_id == world["staff"].id and len(row.fingerprint) == 64


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_key_other_content_is_refused_and_nothing_is_lost(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, case, world)
    before = _count(case)
    assert _post(client, path, fields, case.typed(world)).status_code == 302
    if case.name == "stage":  # the file moved on: the next move starts from where it is now
        fields = [[n, "willing" if n == "from_stage" else v] for n, v in fields]
        path = path.replace("to=willing", "to=applied")
    old_key = dict(fields)["form_key"]
    refused = _post(client, path, fields, {**case.typed(world), **case.other})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "这份表单的提交标识已经用于另一份内容" in html and "您填写的内容都还在" in html
    assert case.shown in html  # what was typed is on the page
    assert _count(case) == before + 1  # nothing saved, nothing swallowed
    new_key = dict(page_form(html))["form_key"]
    assert new_key and new_key != old_key
    # Saving again (the page's fresh key, the same typed content) makes the new record.
    fields = [[n, new_key if n == "form_key" else v] for n, v in page_form(html)]
    saved = _post(client, path, fields, {**case.typed(world), **case.other})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert _count(case) == before + 2


def test_a_key_saved_by_someone_else_is_refused_without_showing_their_record(app, world, make):
    other = make.user("staff", org=world["org"], name="刘晓晴")
    mine = login_as(app.test_client(), world["staff"])
    path, fields = _open(mine, CASES[0], world)
    assert _post(mine, path, fields, CASES[0].typed(world)).status_code == 302
    theirs = login_as(app.test_client(), other)
    _, their_fields = _open(theirs, CASES[0], world)
    key = dict(fields)["form_key"]
    their_fields = [[n, key if n == "form_key" else v] for n, v in their_fields]
    resp = _post(theirs, path, their_fields, CASES[0].typed(world))
    assert resp.status_code == 422 and "查看先前保存的记录" not in resp.get_data(as_text=True)
    assert Visit.select().count() == 1


def test_needs_raised_at_a_visit_are_made_once(app, world):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    typed = {**CASES[0].typed(world), "need_categories": ["legal", "training"]}
    for _ in range(3):
        _post(client, path, fields, typed)
    assert Need.select().count() == 2 and Visit.select().count() == 1


def test_the_fingerprint_is_of_the_content_not_of_its_transport():
    fields = [("summary", " 见到经理\r\n谈建会 "), ("purposes", "founding"), ("purposes", "policy"),
              ("csrf_token", "a"), ("form_key", "k" * 20), ("latitude", "39.7"), ("_outbox", "走访记录"),
              ("next_step", "")]
    same = [("purposes", "policy"), ("summary", "见到经理\n谈建会"), ("purposes", "founding"),
            ("csrf_token", "b"), ("longitude", "116.3")]
    assert submissions.fingerprint_fields(fields) == submissions.fingerprint_fields(same)
    assert submissions.fingerprint_fields(fields) != submissions.fingerprint_fields(same + [("outcome", "同意")])
    assert submissions.fingerprint_fields(fields, [("photos", "aa")]) != \
        submissions.fingerprint_fields(fields, [("photos", "bb")])
    assert submissions.fingerprint_fields(fields, [("photos", "aa"), ("photos", "bb")]) == \
        submissions.fingerprint_fields(fields, [("photos", "bb"), ("photos", "aa")])


def test_a_re_send_with_another_photo_is_other_content(app, world):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    typed = CASES[0].typed(world)
    assert _post(client, path, fields, {**typed, "photos": (jpeg(color="red"), "a.jpg")}).status_code == 302
    assert _post(client, path, fields, {**typed, "photos": (jpeg(color="red"), "a.jpg")}).status_code == 302
    assert _post(client, path, fields, {**typed, "photos": (jpeg(color="blue"), "b.jpg")}).status_code == 422
    visit = Visit.get()
    assert Photo.select().where(Photo.kind == "visit", Photo.record_id == visit.id).count() == 1


def _race(app, client, path, data, n=4, headers=None):
    """n sends of one body at once, each with the client's session (as the outbox, unless other
    `headers` are given): their (status, record URL) pairs."""
    answers = []

    def send():
        c = app.test_client()
        with client.session_transaction() as theirs, c.session_transaction() as sess:
            sess.update(dict(theirs))
        resp = c.post(path, data=data, content_type="multipart/form-data",
                      headers={"X-CRM-Outbox": "1"} if headers is None else headers)
        answers.append((resp.status_code, resp.json.get("url") if resp.is_json else resp.headers.get("Location")))

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_two_sends_of_one_key_at_once_make_one_record(app, world):
    """The race: both sends pass the check before either has saved; the unique key decides."""
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    answers = [status for status, _ in _race(app, client, path, posted(fields, CASES[0].typed(world)), headers={})]
    assert answers == [302] * 4
    assert Visit.select().count() == 1 and FormSubmission.select().count() == 1


def test_internal_callers_keep_the_rule(app, world):
    """Services called with a bare key (the demo, imports) fingerprint the data they pass."""
    from crm.meetings import services
    from crm.common.timeutil import local_today
    data = {"kind": "staff", "level": "routine", "format": "face", "org_unit": world["org"].id,
            "held_on": local_today(), "summary": "沟通会", "attendees": 10, "enterprise_ids": [], "new_members": {}}
    key = submissions.new_form_key()
    with app.app_context():
        first, created = services.create_meeting(data, world["staff"], key)
        again, created_again = services.create_meeting(dict(data), world["staff"], key)
        assert created and not created_again and again.id == first.id
        with pytest.raises(submissions.KeyReused):
            services.create_meeting({**data, "attendees": 11}, world["staff"], key)


# ---- what the outbox is told --------------------------------------------------------------

def test_the_outbox_gets_json_answers(app, world):
    client = login_as(app.test_client(), world["staff"])
    case = CASES[0]
    path, fields = _open(client, case, world)
    headers = {"X-CRM-Outbox": "1"}
    saved = _post(client, path, fields, case.typed(world), headers=headers)
    assert saved.status_code == 200 and saved.json["status"] == "saved" and saved.json["created"] is True
    visit = Visit.get()
    assert saved.json["url"] == f"/visits/{visit.id}"
    again = _post(client, path, fields, case.typed(world), headers=headers)
    assert again.json == {**saved.json, "created": False}
    # A form the server refuses: the reason, in Chinese, with the field it concerns.
    _, fields2 = _open(client, case, world)
    bad = _post(client, path, fields2, {**case.typed(world), "summary": ""}, headers=headers)
    assert bad.status_code == 422 and bad.json["status"] == "refused" and "内容摘要" in bad.json["reason"]
    # The firm was archived meanwhile: refused with the reason the page would have shown.
    from crm.enterprises.services import set_archived
    set_archived(Enterprise.get_by_id(world["ent"].id), world["staff"], True, "企业已注销")
    gone = _post(client, path, fields2, case.typed(world), headers=headers)
    assert gone.status_code == 422 and "该档案已归档" in gone.json["reason"]
    assert Visit.select().count() == 1
    # The flash messages meant for the page are not left for the next page.
    assert "该档案已归档" not in client.get("/").get_data(as_text=True)


def test_the_outbox_is_told_when_the_login_expired(app, world):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    with client.session_transaction() as sess:  # the login ended; the session (and its CSRF token) is left
        sess.pop("_user_id")
    resp = _post(client, path, fields, CASES[0].typed(world), headers={"X-CRM-Outbox": "1"})
    assert resp.status_code == 401 and resp.json["status"] == "login"
    assert Visit.select().count() == 0


def test_state_tells_which_of_my_keys_were_saved(app, world, make):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    key = dict(fields)["form_key"]
    unsent = submissions.new_form_key()
    assert client.get(f"/sync/state?key={key}&key={unsent}").json["saved"] == {}
    _post(client, path, fields, CASES[0].typed(world))
    state = client.get(f"/sync/state?key={key}&key={unsent}&key=x").json
    assert state["user"] == world["staff"].id and state["csrf_token"]
    assert state["saved"] == {key: f"/visits/{Visit.get().id}"}
    other = login_as(app.test_client(), make.user("staff", org=world["org"]))
    assert other.get(f"/sync/state?key={key}").json["saved"] == {}  # only my own keys
    assert app.test_client().get("/sync/state").status_code == 302  # login required


def test_keys_of_records_saved_before_the_ledger_still_find_their_record(app, world):
    """Migration 0011 carried the keys of existing records over with an empty fingerprint."""
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    _post(client, path, fields, CASES[0].typed(world))
    FormSubmission.update(fingerprint="").execute()
    again = _post(client, path, fields, {**CASES[0].typed(world), "summary": "内容不同"})
    assert again.status_code == 302 and Visit.select().count() == 1


def test_the_pages_a_cadre_needs_offline_are_marked_to_keep(app, world):
    client = login_as(app.test_client(), world["staff"])
    ent = world["ent"]
    for path in ("/", f"/enterprises/{ent.id}", f"/enterprises/{ent.id}/visits/new", "/sync/outbox",
                 "/visits/new"):
        assert client.get(path).headers.get("X-CRM-Offline") == "keep", path
    for path in ("/visits/", "/dashboard/"):
        assert "X-CRM-Offline" not in client.get(path).headers, path
    assert "X-CRM-Offline" not in app.test_client().get("/login").headers


def test_the_service_worker_names_its_shell_and_the_offline_page_no_user(app, world):
    client = login_as(app.test_client(), world["staff"])
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    head = sw.get_data(as_text=True).splitlines()[0]
    assert head.startswith("const CRM_SHELL = ") and "/static/outbox.js" in head and "/offline" in head
    assert re.search(r'"version": "[0-9a-f]{16}"', head)
    offline = client.get("/offline").get_data(as_text=True)
    assert "现在没有网络" in offline and world["staff"].name not in offline


@pytest.mark.parametrize("name", ["stage", "enterprise"])
def test_a_race_whose_loser_fails_a_check_still_gets_the_winners_record(app, world, name):
    """The second send of a stage move finds the stage moved; of a file, its credit code taken:
    the first send's save is the answer, not a refusal."""
    case = next(c for c in CASES if c.name == name)
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, case, world)
    typed = case.typed(world)
    if name == "enterprise":
        typed = {**typed, "credit_code": "91110115MA01ABCD1X"}
        from crm.enterprises.creditcode import check_char
        typed["credit_code"] = typed["credit_code"][:17] + check_char(typed["credit_code"][:17])
    before = _count(case)
    answers = _race(app, client, path, posted(fields, typed))
    assert [status for status, _ in answers] == [200] * 4, answers
    assert len({url for _, url in answers}) == 1
    assert _count(case) == before + 1


def test_the_same_fields_posted_to_another_firms_form_are_other_content(app, world, make):
    second = make.enterprise(org=world["org"], name="圆通速递宜家站")
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    assert _post(client, path, fields, CASES[0].typed(world)).status_code == 302
    resp = _post(client, f"/enterprises/{second.id}/visits/new", fields, CASES[0].typed(world))
    assert resp.status_code == 422
    assert Visit.select().where(Visit.enterprise == second.id).count() == 0


def test_next_step_to_follow_up_is_the_same_task_on_another_day(app, world, monkeypatch):
    """下一步 → 跟进任务 keys on the visit and the person; tapping again tomorrow finds the task."""
    from datetime import timedelta
    from crm.common.timeutil import local_today
    from crm.followups import services as followups
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    _post(client, path, fields, {**CASES[0].typed(world), "next_step": "送建会材料"})
    visit = Visit.get()
    with app.app_context():
        first, created = followups.from_visit(world["staff"], visit)
        followups.set_status(world["staff"], first, "complete", note="已电话沟通")
        again, created_again = followups.from_visit(world["staff"], Visit.get_by_id(visit.id),
                                                    today=local_today() + timedelta(days=1))
    assert created and again.id == first.id


def test_the_outbox_is_told_why_a_new_file_waits_for_a_check(app, world):
    client = login_as(app.test_client(), world["staff"])
    case = next(c for c in CASES if c.name == "enterprise")
    path, fields = _open(client, case, world)
    resp = _post(client, path, fields, {"name": "瀛嘉汇老北京炸酱面馆"}, headers={"X-CRM-Outbox": "1"})
    assert resp.status_code == 422 and "已有名称相近的企业档案：瀛嘉汇老北京炸酱面馆" in resp.json["reason"]


def test_a_csrf_failure_is_retried_not_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    fields = [[n, "stale" if n == "csrf_token" else v] for n, v in fields]
    resp = _post(client, path, fields, CASES[0].typed(world), headers={"X-CRM-Outbox": "1"})
    assert resp.status_code == 400 and resp.json["status"] == "csrf"
    assert Visit.select().count() == 0


def test_the_workers_fetches_neither_show_nor_use_up_the_users_messages(app, world):
    client = login_as(app.test_client(), world["staff"])
    path, fields = _open(client, CASES[0], world)
    saved = _post(client, path, fields, CASES[0].typed(world))
    # Between the save and the page it leads to, the service worker fetches the home page to keep.
    warm = client.get("/", headers={"X-CRM-Warm": "1"})
    assert warm.headers.get("X-CRM-Offline") == "keep" and "已保存走访记录" not in warm.get_data(as_text=True)
    assert "已保存走访记录" in client.get(saved.headers["Location"]).get_data(as_text=True)
    # A page showing a message of the moment is not one to keep.
    _, fields = _open(client, CASES[0], world)
    _post(client, path, fields, {**CASES[0].typed(world), "summary": "又一次"})
    shown = client.get("/")
    assert "已保存走访记录" in shown.get_data(as_text=True) and "X-CRM-Offline" not in shown.headers

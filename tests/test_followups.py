"""跟进任务: assigning within the subtree, staff for themselves only, completing by logging the
visit, reassignment history, overdue in Beijing dates, bulk assignment in one transaction,
closing with a note, the board, the export, the navigation counts."""
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from crm.common import timeutil
from crm.common.errors import ServiceError
from crm.fieldwork.models import RecordChange
from crm.followups import queries, services
from crm.followups.models import FollowUp
from crm.visits.models import Visit
from tests.conftest import login_as
from tests.fieldwork_helpers import form_keys

TODAY = date(2026, 11, 24)  # a Tuesday


@pytest.fixture
def fixed_clock(monkeypatch):
    """Noon in Beijing on TODAY, unless a test moves the clock."""
    def set_clock(utc):
        monkeypatch.setattr(timeutil, "now", lambda: utc)
    set_clock(datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    return set_clock


@pytest.fixture
def team(make, fixed_clock):
    """甲镇 (with 甲一站 below it) and 乙镇: a supervisor and staff in each."""
    town = make.org("甲镇总工会")
    station = make.org("甲一站", "station", parent=town)
    other = make.org("乙镇总工会")
    people = {
        "sup": make.user("supervisor", org=town, username="sup", name="主管甲"),
        "zhang": make.user("staff", org=town, username="zhang", name="张三"),
        "li": make.user("staff", org=station, username="li", name="李四"),
        "viewer": make.user("viewer", org=town, username="viewer", name="领导甲"),
        "gone": make.user("staff", org=town, username="gone", name="已离职", active=False),
        "wang": make.user("staff", org=other, username="wang", name="王五"),
        "sup_b": make.user("supervisor", org=other, username="supb", name="主管乙"),
        "admin": make.user("admin", username="admin", name="管理员"),
    }
    firms = {
        "town": make.enterprise(org=town, name="甲镇物流有限公司"),
        "station": make.enterprise(org=station, name="甲一站快递网点"),
        "other": make.enterprise(org=other, name="乙镇商贸有限公司"),
    }
    return {"unit_town": town, "unit_station": station, "unit_other": other, **people, **firms}


def assign(client, ents, assignee, due=TODAY + timedelta(days=3), title="走访", priority="medium", key=None):
    path = "/followups/new?" + "&".join(f"ent={e.id}" for e in ents)
    token, form_key, _ = form_keys(client, path)
    data = {"csrf_token": token, "form_key": key or form_key, "title": title, "assignee": str(assignee.id),
            "due_on": due.isoformat(), "priority": priority, "detail": ""}
    return client.post(path, data=data), key or form_key


# ---- assigning ---------------------------------------------------------------------------

def test_supervisor_assigns_within_the_subtree(app, team):
    client = login_as(app.test_client(), team["sup"])
    resp, _ = assign(client, [team["station"]], team["li"], title="了解建会意向", priority="high")
    assert resp.status_code == 302
    fu = FollowUp.get()
    assert resp.headers["Location"].endswith(f"/followups/{fu.id}")
    assert (fu.assignee_id, fu.assigned_by_id, fu.enterprise_id, fu.org_unit_id) == \
        (team["li"].id, team["sup"].id, team["station"].id, team["unit_station"].id)
    assert (fu.title, fu.priority, fu.status, fu.source, fu.due_on) == \
        ("了解建会意向", "high", "open", "manual", TODAY + timedelta(days=3))
    page = client.get(f"/followups/{fu.id}").get_data(as_text=True)
    assert "李四" in page and "了解建会意向" in page and "分派" in page


def test_assigning_outside_the_subtree_is_refused(app, team):
    client = login_as(app.test_client(), team["sup"])
    # A person of another town.
    resp, _ = assign(client, [team["town"]], team["wang"])
    assert resp.status_code == 200
    assert "王五不在本单位及下属单位，不能分派" in resp.get_data(as_text=True)
    # A firm the chosen person cannot see (the station cadre and a town-level firm).
    resp, _ = assign(client, [team["town"]], team["li"])
    assert "不在李四的工作范围" in resp.get_data(as_text=True)
    # An inactive account.
    resp, _ = assign(client, [team["town"]], team["gone"])
    assert "不是在岗的走访干部或主管" in resp.get_data(as_text=True)
    # A firm of another town does not exist for this supervisor.
    assert client.get(f"/followups/new?ent={team['other'].id}").status_code == 404
    assert FollowUp.select().count() == 0
    # The picker offers only people who can see the firm.
    html = client.get(f"/followups/new?ent={team['station'].id}").get_data(as_text=True)
    assert "李四" in html and "张三" in html and "王五" not in html and "已离职" not in html
    html = client.get(f"/followups/new?ent={team['town'].id}").get_data(as_text=True)
    assert "张三" in html and "李四" not in html


def test_staff_create_follow_ups_for_themselves_only(app, team):
    client = login_as(app.test_client(), team["zhang"])
    resp, _ = assign(client, [team["town"]], team["sup"])
    assert resp.status_code == 200
    assert "走访干部只能给自己创建跟进任务" in resp.get_data(as_text=True)
    resp, _ = assign(client, [team["station"]], team["li"])
    assert "只能给自己" in resp.get_data(as_text=True)
    assert FollowUp.select().count() == 0
    resp, _ = assign(client, [team["town"]], team["zhang"], title="下周回访")
    assert resp.status_code == 302
    fu = FollowUp.get()
    assert fu.assignee_id == fu.assigned_by_id == team["zhang"].id
    # The service refuses the same, whatever the page offered.
    with pytest.raises(ServiceError, match="只能给自己"):
        services.create(team["zhang"], services.Task("走访", team["town"]), team["li"], TODAY, "medium",
                        "k" * 24)
    # Staff may not reassign, even their own.
    with pytest.raises(ServiceError, match="只能给自己"):
        services.update(team["zhang"], fu, {"title": fu.title, "due_on": fu.due_on, "priority": "medium",
                                            "assignee": team["li"]}, fu.version)


def test_due_date_and_title_are_checked(app, team):
    client = login_as(app.test_client(), team["sup"])
    resp, _ = assign(client, [team["town"]], team["zhang"], due=TODAY - timedelta(days=1))
    assert "到期日不能早于今天" in resp.get_data(as_text=True)
    resp, _ = assign(client, [team["town"]], team["zhang"], title="")
    assert "请填写任务内容" in resp.get_data(as_text=True)
    assert FollowUp.select().count() == 0


def test_bulk_assignment_of_50_firms_is_one_transaction(app, team, make, monkeypatch):
    firms = [make.enterprise(org=team["unit_town"], name=f"批量企业{i:02d}") for i in range(50)]
    client = login_as(app.test_client(), team["sup"])

    # The 50th insert fails: nothing of the batch stays.
    real_create = FollowUp.create
    calls = []

    def failing(**values):
        calls.append(1)
        if len(calls) == 50:
            raise RuntimeError("disk full")
        return real_create(**values)

    monkeypatch.setattr(FollowUp, "create", failing)
    with app.app_context(), pytest.raises(RuntimeError):
        services.create_many(team["sup"], [services.Task("走访", f) for f in firms], team["zhang"],
                             TODAY + timedelta(days=3), "medium", "batch-that-fails-000")
    monkeypatch.setattr(FollowUp, "create", real_create)
    assert len(calls) == 50 and FollowUp.select().count() == 0

    resp, key = assign(client, firms, team["zhang"], due=date(2026, 11, 27), title="走访一次")
    assert resp.status_code == 302 and f"assignee={team['zhang'].id}" in resp.headers["Location"]
    rows = list(FollowUp.select().order_by(FollowUp.id))
    assert len(rows) == 50
    assert [r.enterprise_id for r in rows] == [f.id for f in firms]
    assert {(r.title, r.assignee_id, r.due_on) for r in rows} == {("走访一次", team["zhang"].id, date(2026, 11, 27))}
    # The same form sent again makes nothing new.
    resp, _ = assign(client, firms, team["zhang"], key=key)
    assert FollowUp.select().count() == 50
    # One firm the assignee cannot see refuses the whole batch.
    resp, _ = assign(client, [team["station"]] + firms[:5], team["li"])
    assert "“批量企业00”不在李四的工作范围" in resp.get_data(as_text=True)
    assert FollowUp.select().count() == 50


def test_from_a_need_and_from_a_visit_next_step(app, team):
    from crm.needs.services import raise_needs
    client = login_as(app.test_client(), team["sup"])
    from tests.test_visits import new_visit
    resp, key = new_visit(login_as(app.test_client(), team["zhang"]), team["town"], next_step="送建会材料",
                          next_step_on=(TODAY + timedelta(days=5)).isoformat(), need_categories=["legal"])
    visit = Visit.get(Visit.form_key == key)
    html = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "下一步转为跟进任务" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = client.post(f"/visits/{visit.id}/followup", data={"csrf_token": token})
    fu = FollowUp.get(FollowUp.source_visit == visit.id)
    assert resp.headers["Location"].endswith(f"/followups/{fu.id}")
    # One tap: the step, its date, the recorder (the supervisor tapped it).
    assert (fu.title, fu.due_on, fu.assignee_id, fu.source) == \
        ("送建会材料", TODAY + timedelta(days=5), team["zhang"].id, "visit")
    client.post(f"/visits/{visit.id}/followup", data={"csrf_token": token})
    assert FollowUp.select().where(FollowUp.source_visit == visit.id).count() == 1
    assert "下一步已转为任务" in client.get(f"/visits/{visit.id}").get_data(as_text=True)

    need = raise_needs(org_unit=team["unit_town"].id, enterprise=team["town"].id, visit=None, raised_on=TODAY,
                       user=team["sup"], categories=["hardship"], detail="职工家属重病")[0]
    html = client.get(f"/followups/new?need={need.id}").get_data(as_text=True)
    assert "跟进需求：困难帮扶" in html and "职工家属重病" in html
    token, key, _ = form_keys(client, f"/followups/new?need={need.id}")
    client.post(f"/followups/new?need={need.id}", data={
        "csrf_token": token, "form_key": key, "title": "跟进需求：困难帮扶", "assignee": str(team["zhang"].id),
        "due_on": TODAY.isoformat(), "priority": "high", "detail": "职工家属重病"})
    fu = FollowUp.get(FollowUp.source_need == need.id)
    assert (fu.source, fu.enterprise_id, fu.priority) == ("need", team["town"].id, "high")
    assert "跟进需求：困难帮扶" in client.get(f"/needs/{need.id}").get_data(as_text=True)


# ---- working the list ----------------------------------------------------------------------

def _task(team, ent=None, assignee=None, due=TODAY, title="走访", actor=None, key=None):
    import secrets
    fu, _ = services.create(actor or team["sup"], services.Task(title, ent or team["town"]),
                            assignee or team["zhang"], due, "medium", key or secrets.token_urlsafe(18))
    return fu


def test_completing_through_the_prefilled_visit_links_both_ways(app, team):
    fu = _task(team, title="了解职工入会意愿")
    client = login_as(app.test_client(), team["zhang"])
    home = client.get("/").get_data(as_text=True)
    link = f"/enterprises/{team['town'].id}/visits/new?followup={fu.id}"
    assert "我的任务" in home and link.replace("&", "&amp;") in home or link in home
    form = client.get(link).get_data(as_text=True)
    assert "完成跟进任务" in form and "了解职工入会意愿" in form
    token, key, _ = form_keys(client, link)
    ticked = re.findall(r'name="visitor_ids" id="[^"]+" value="(\d+)" autocomplete="off" checked', form)
    resp = client.post(link, data={"csrf_token": token, "form_key": key, "visited_on": TODAY.isoformat(),
                                   "kind": "door", "summary": "职工十二人，八人愿意入会", "visitor_ids": ticked,
                                   "move_to": "", "followup_id": str(fu.id)}, content_type="multipart/form-data")
    visit = Visit.get(Visit.form_key == key)
    assert resp.headers["Location"].endswith(f"/visits/{visit.id}")
    fu = FollowUp.get_by_id(fu.id)
    assert (fu.status, fu.completed_visit_id, fu.completed_by_id, fu.completed_on) == \
        ("done", visit.id, team["zhang"].id, TODAY)
    assert "跟进任务“了解职工入会意愿”已完成" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # Both ways: the visit names the follow-up it completed, the follow-up links its visit.
    assert "了解职工入会意愿" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert f"/visits/{visit.id}" in client.get(f"/followups/{fu.id}").get_data(as_text=True)
    assert [c.field for c in services.history(fu.id)][:2] == ["完成走访", "状态"]
    # Gone from 我的任务.
    assert "了解职工入会意愿" not in client.get("/").get_data(as_text=True).split("外勤记录")[0]


def test_a_visit_for_someone_elses_or_a_closed_follow_up_saves_alone(app, team):
    fu = _task(team, assignee=team["zhang"])
    other_staff = login_as(app.test_client(), team["li"])
    # 李四 cannot see the town firm at all.
    assert other_staff.get(f"/enterprises/{team['town'].id}/visits/new?followup={fu.id}").status_code == 404
    services.set_status(team["sup"], fu, "cancel", "企业已搬走")
    client = login_as(app.test_client(), team["zhang"])
    html = client.get(f"/enterprises/{team['town'].id}/visits/new?followup={fu.id}").get_data(as_text=True)
    assert "跟进任务“走访”已取消，这次走访将单独保存" in html and "完成跟进任务" not in html


def test_close_with_a_note(app, team):
    fu = _task(team)
    client = login_as(app.test_client(), team["zhang"])
    token, _, _ = form_keys(client, "/followups/new")
    resp = client.post(f"/followups/{fu.id}/status", data={"csrf_token": token, "action": "complete", "note": ""})
    assert FollowUp.get_by_id(fu.id).status == "open"
    assert "请填写完成情况" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post(f"/followups/{fu.id}/status", data={"csrf_token": token, "action": "start"})
    assert FollowUp.get_by_id(fu.id).status == "in_progress"
    client.post(f"/followups/{fu.id}/status", data={"csrf_token": token, "action": "complete",
                                                    "note": "电话确认：下月召开职工大会"})
    fu = FollowUp.get_by_id(fu.id)
    assert (fu.status, fu.completion_note, fu.completed_visit_id) == ("done", "电话确认：下月召开职工大会", None)
    # Another staff member of the unit may not close it; a supervisor reopens it.
    other = _task(team, assignee=team["zhang"])
    with pytest.raises(ServiceError, match="不是分派给您的"):
        services.set_status(team["li"], other, "complete", "x")
    reopened = services.set_status(team["sup"], fu, "reopen", "还需现场确认")
    assert reopened.status == "open" and reopened.completion_note == ""
    assert [c.new_value for c in services.history(fu.id)][0] == "待办：还需现场确认"


def test_reassignment_is_kept_in_history(app, team):
    fu = _task(team, ent=team["station"], assignee=team["li"])
    client = login_as(app.test_client(), team["sup"])
    path = f"/followups/{fu.id}/edit"
    token, key, version = form_keys(client, path)
    resp = client.post(path, data={"csrf_token": token, "form_key": key, "version": version, "title": fu.title,
                                   "assignee": str(team["zhang"].id), "due_on": (TODAY + timedelta(days=7)).isoformat(),
                                   "priority": "high", "detail": "", "note": "李四休假"})
    assert resp.status_code == 302
    fu = FollowUp.get_by_id(fu.id)
    assert (fu.assignee_id, fu.version, fu.priority) == (team["zhang"].id, 2, "high")
    changes = {c.field: (c.old_value, c.new_value) for c in
               RecordChange.select().where(RecordChange.kind == "followup", RecordChange.record_id == fu.id,
                                           RecordChange.version == 2)}
    assert changes["负责人"] == ("李四", "张三（李四休假）")
    assert changes["到期日"] == (TODAY.isoformat(), (TODAY + timedelta(days=7)).isoformat())
    assert changes["优先级"] == ("中", "高")
    assert "李四休假" in client.get(f"/followups/{fu.id}").get_data(as_text=True)
    # A stale edit (version 1) is refused.
    resp = client.post(path, data={"csrf_token": token, "form_key": key, "version": "1", "title": "改名",
                                   "assignee": str(team["li"].id), "due_on": TODAY.isoformat(), "priority": "low"})
    assert "刚被他人修改" in resp.get_data(as_text=True) and FollowUp.get_by_id(fu.id).title == "走访"

    # Bulk reassignment from the board: each one recorded.
    a, b = _task(team, assignee=team["zhang"]), _task(team, assignee=team["zhang"])
    board = client.get("/followups/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', board).group(1)
    client.post("/followups/reassign", data={"csrf_token": token, "ids": [str(a.id), str(b.id)],
                                             "assignee": str(team["sup"].id), "note": ""})
    assert {FollowUp.get_by_id(i).assignee_id for i in (a.id, b.id)} == {team["sup"].id}
    assert RecordChange.select().where(RecordChange.kind == "followup", RecordChange.field == "负责人",
                                       RecordChange.new_value == "主管甲").count() == 2
    # Another town's supervisor cannot take them over.
    with pytest.raises(ServiceError, match="不在您的管辖范围内"):
        services.reassign_many(team["sup_b"], [a.id], team["wang"])


def test_overdue_is_counted_in_beijing_dates(app, team, fixed_clock):
    due_today = _task(team, title="今天到期的任务")
    yesterday = FollowUp.create(title="昨天到期的任务", org_unit=team["unit_town"], enterprise=team["town"],
                                assignee=team["zhang"], assigned_by=team["sup"], due_on=TODAY - timedelta(days=1))
    this_week = _task(team, title="周日到期", due=date(2026, 11, 29))
    later = _task(team, title="下周一到期", due=date(2026, 11, 30))
    client = login_as(app.test_client(), team["zhang"])

    # 23:30 on 24 November in Beijing (15:30 UTC): due today is not overdue.
    fixed_clock(datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc))
    buckets = queries.my_buckets(team["zhang"])
    assert [f.id for f in buckets["overdue"]] == [yesterday.id]
    assert [f.id for f in buckets["today"]] == [due_today.id]
    assert [f.id for f in buckets["week"]] == [this_week.id]
    assert [f.id for f in buckets["later"]] == [later.id]
    assert queries.nav_counts(team["zhang"]) == (4, 1)
    html = client.get("/").get_data(as_text=True)
    assert "逾期 1" in html
    assert html.index("已逾期") < html.index("今天到期") < html.index("本周到期") < html.index("以后")

    # 00:30 on the 25th in Beijing — still the 24th in UTC — it is overdue.
    fixed_clock(datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc))
    buckets = queries.my_buckets(team["zhang"])
    assert {f.id for f in buckets["overdue"]} == {yesterday.id, due_today.id}
    assert queries.nav_counts(team["zhang"]) == (4, 2)
    assert "逾期 2" in client.get("/").get_data(as_text=True)


def test_the_team_board_counts_and_filters(app, team, fixed_clock):
    _task(team, title="逾期", due=TODAY)
    _task(team, title="本周", due=date(2026, 11, 27))
    done = _task(team, title="已完成", due=date(2026, 12, 10))
    services.set_status(team["zhang"], done, "complete", "办完了")
    _task(team, ent=team["station"], assignee=team["li"], title="站点任务", due=date(2026, 12, 20))
    fixed_clock(datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc))  # the next day
    rows = {r.user.username: r for r in queries.board(team["sup"])}
    assert (rows["zhang"].open, rows["zhang"].week, rows["zhang"].overdue, rows["zhang"].done_month) == (2, 1, 1, 1)
    assert (rows["li"].open, rows["li"].week, rows["li"].overdue) == (1, 0, 0)
    assert "wang" not in rows and "gone" not in rows and "viewer" not in rows
    client = login_as(app.test_client(), team["sup"])
    html = client.get("/followups/").get_data(as_text=True)
    assert "人员任务概况" in html and "张三" in html and "李四" in html
    assert "站点任务" in client.get("/followups/?stage=not_contacted&q=快递").get_data(as_text=True)
    assert "站点任务" not in client.get("/followups/?due=overdue").get_data(as_text=True)
    assert "逾期" in client.get(f"/followups/?due=overdue&assignee={team['zhang'].id}").get_data(as_text=True)
    # The export has exactly the filtered rows.
    resp = client.get(f"/followups/export.xlsx?assignee={team['zhang'].id}")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = list(ws.values)
    assert values[0][:5] == ("到期日", "状态", "优先级", "任务内容", "企业名称")
    assert sorted(r[3] for r in values[1:]) == ["本周", "逾期"]
    # Another town's supervisor sees none of it; staff see their own list without the board.
    other = login_as(app.test_client(), team["sup_b"])
    assert "张三" not in other.get("/followups/").get_data(as_text=True)
    staff = login_as(app.test_client(), team["li"]).get("/followups/").get_data(as_text=True)
    assert "站点任务" in staff and "人员任务概况" not in staff and ">本周<" not in staff


def test_the_board_renders_the_busiest_and_everyone_on_request(app, team, monkeypatch):
    from crm.followups import views
    overdue = _task(team, ent=team["station"], assignee=team["li"])
    FollowUp.update(due_on=TODAY - timedelta(days=1)).where(FollowUp.id == overdue.id).execute()  # 李四: one overdue
    for _ in range(3):
        _task(team, assignee=team["zhang"])                            # 张三: three open, none overdue
    monkeypatch.setattr(views, "BOARD_SHOWN", 2)
    client = login_as(app.test_client(), team["sup"])

    def people(html):
        return re.findall(r'<tr data-person="([^"]+)"', html)

    html = client.get("/followups/?status=all").get_data(as_text=True)
    # 主管甲 holds none: the third of three, not rendered.
    assert people(html) == ["li", "zhang"]
    assert "显示前 2 人，共 3 人" in html and 'aria-describedby="board-shown"' in html
    more = re.search(r'<a class="more-people[^"]*" href="([^"]+)">显示全部（3 人）</a>', html).group(1)
    assert more == "/followups/?status=all&amp;people=all#board"
    html = client.get(more.replace("&amp;", "&")).get_data(as_text=True)
    assert people(html) == ["li", "zhang", "sup"] and "more-people" not in html
    # The filters stay; the way back shows the first two again.
    fewer = re.search(r'<a class="fewer-people[^"]*" href="([^"]+)">只显示前 2 人</a>', html).group(1)
    assert fewer == "/followups/?status=all#board" and 'name="status"' in html
    monkeypatch.setattr(views, "BOARD_SHOWN", 3)
    html = client.get("/followups/").get_data(as_text=True)
    assert people(html) == ["li", "zhang", "sup"] and "more-people" not in html and "共 3 人" in html


def test_a_board_page_is_the_boards_first_rows_with_its_size(app, make, team):
    for i in range(6):
        make.user("staff", org=team["unit_town"], username=f"s{i}", name=f"干部{i}")
    for i, n in enumerate((2, 0, 3, 1)):
        for _ in range(n):
            _task(team, assignee=team["zhang"] if i == 0 else team["li"] if i == 2 else team["sup"],
                  ent=team["station"] if i == 2 else team["town"])
    every = queries.board(team["sup"])
    key = [(r.user.id, r.user.name, r.user.org_unit.name, r.open, r.week, r.overdue, r.done_month) for r in every]
    for limit in (None, 1, 3, len(every), len(every) + 5):
        rows, total = queries.board_page(team["sup"], limit=limit)
        assert total == len(every) == 9
        assert [(r.user.id, r.user.name, r.user.org_unit.name, r.open, r.week, r.overdue, r.done_month)
                for r in rows] == key[:limit]
    assert [r.user.username for r in every[:3]] == ["li", "zhang", "sup"]
    # The supervisor's home page shows the first 8 and says how many more there are.
    html = login_as(app.test_client(), team["sup"]).get("/").get_data(as_text=True)
    assert "还有 1 人，见" in html


def test_viewer_sees_the_board_but_cannot_assign(app, team):
    _task(team)
    client = login_as(app.test_client(), team["viewer"])
    html = client.get("/followups/").get_data(as_text=True)
    assert "张三" in html and "分派任务" not in html and "转派" not in html
    assert client.get("/followups/new").status_code == 403
    assert "分派跟进" not in client.get(f"/enterprises/{team['town'].id}").get_data(as_text=True)


def test_archiving_a_file_cancels_its_open_follow_ups(app, team):
    from crm.enterprises.services import set_archived
    open_one = _task(team, title="待办的")
    done = _task(team, title="已完成的")
    services.set_status(team["zhang"], done, "complete", "办完了")
    set_archived(team["town"], team["sup"], True, "企业已注销")
    assert FollowUp.get_by_id(open_one.id).status == "cancelled"
    assert FollowUp.get_by_id(open_one.id).completion_note == "档案已归档：企业已注销"
    assert FollowUp.get_by_id(done.id).status == "done"
    assert queries.nav_counts(team["zhang"]) == (0, 0)
    assert services.history(open_one.id)[0].new_value == "已取消：档案已归档：企业已注销"


def test_resolving_a_need_completes_its_follow_up(app, team):
    from crm.needs.services import raise_needs, update_need
    need = raise_needs(org_unit=team["unit_town"].id, enterprise=team["town"].id, visit=None, raised_on=TODAY,
                       user=team["sup"], categories=["legal"], detail="劳动合同咨询")[0]
    fu, _ = services.create(team["sup"], services.Task("跟进需求：法律咨询", team["town"], source="need",
                                                       source_need_id=need.id), team["zhang"], TODAY, "high",
                            "n" * 24)
    update_need(need, {"status": "resolved", "resolution": "律师已答复"}, team["zhang"], need.version)
    fu = FollowUp.get_by_id(fu.id)
    assert (fu.status, fu.completion_note, fu.completed_by_id) == ("done", "需求已解决：律师已答复", team["zhang"].id)


# ---- what the review found -------------------------------------------------------------------

def test_follow_ups_move_with_their_firm_and_wait_for_a_moved_person(app, team):
    from crm.auth.models import User
    from crm.enterprises.models import Enterprise
    from crm.enterprises.services import update_enterprise
    fu = _task(team, ent=team["station"], assignee=team["li"], title="站点任务")
    ent = Enterprise.get_by_id(team["station"].id)
    update_enterprise(ent.id, {"org_unit": team["unit_other"].id}, team["admin"], ent.version)
    assert FollowUp.get_by_id(fu.id).org_unit_id == team["unit_other"].id
    assert login_as(app.test_client(), team["sup"]).get(f"/followups/{fu.id}").status_code == 404
    assert login_as(app.test_client(), team["sup_b"]).get(f"/followups/{fu.id}").status_code == 200
    # 李四 can no longer open it: it leaves his list and waits on 乙镇's board for a reassignment.
    assert queries.my_buckets(team["li"])["today"] == [] and queries.nav_counts(team["li"]) == (0, 0)
    rows = {r.user.username: r for r in queries.board(team["sup_b"])}
    assert rows["li"].open == 1
    # A person moved to another unit keeps showing on the board that holds their tasks.
    other = _task(team, assignee=team["zhang"], title="张三的任务")
    User.update(org_unit=team["unit_other"]).where(User.id == team["zhang"].id).execute()
    rows = {r.user.username: r for r in queries.board(team["sup"])}
    assert rows["zhang"].open == 1
    assert other.id not in [f.id for group in queries.my_buckets(User.get_by_id(team["zhang"].id)).values()
                            for f in group]


def test_staff_complete_but_do_not_cancel_what_a_supervisor_assigned(app, team):
    given = _task(team)
    with pytest.raises(ServiceError, match="不能由走访干部取消"):
        services.set_status(team["zhang"], given, "cancel", "不想去")
    assert "取消任务" not in login_as(app.test_client(), team["zhang"]).get(
        f"/followups/{given.id}").get_data(as_text=True)
    own = _task(team, actor=team["zhang"])
    assert services.set_status(team["zhang"], own, "cancel", "重复了").status == "cancelled"
    # A double tap on 完成 is quiet.
    done = services.set_status(team["zhang"], given, "complete", "已办")
    assert services.set_status(team["zhang"], done, "complete", "已办").status == "done"


def test_reopening_is_refused_for_an_archived_file_or_a_departed_assignee(app, team):
    from crm.auth.models import User
    from crm.enterprises.services import set_archived
    fu = _task(team)
    set_archived(team["town"], team["sup"], True, "重复档案")
    with pytest.raises(ServiceError, match="已归档"):
        services.set_status(team["sup"], FollowUp.get_by_id(fu.id), "reopen")
    other = _task(team, ent=team["station"], assignee=team["li"])
    services.set_status(team["li"], other, "complete", "办完")
    User.update(active=False).where(User.id == team["li"].id).execute()
    with pytest.raises(ServiceError, match="已停用或已调离"):
        services.set_status(team["sup"], FollowUp.get_by_id(other.id), "reopen")


def test_a_task_without_a_firm_moves_with_its_assignee(app, team):
    import secrets
    fu, _ = services.create(team["sup"], services.Task("整理季度台账"), team["zhang"], TODAY, "medium",
                            secrets.token_urlsafe(18))
    assert fu.org_unit_id == team["unit_town"].id
    moved = services.update(team["sup"], fu, {"title": fu.title, "due_on": fu.due_on, "priority": "medium",
                                              "assignee": team["li"]}, fu.version)
    assert (moved.assignee_id, moved.org_unit_id) == (team["li"].id, team["unit_station"].id)
    assert queries.nav_counts(team["li"]) == (1, 0)


def test_the_visit_form_offers_my_open_task_and_says_what_became_of_it(app, team):
    fu = _task(team, title="回访了解用工")
    client = login_as(app.test_client(), team["zhang"])
    path = f"/enterprises/{team['town'].id}/visits/new"
    form = client.get(path).get_data(as_text=True)
    assert 'name="followup_id"' in form and "回访了解用工" in form  # offered from the file, ticked
    token, key, _ = form_keys(client, path)

    def post(**extra):
        token, key, _ = form_keys(client, path)
        data = {"csrf_token": token, "form_key": key, "visited_on": TODAY.isoformat(), "kind": "door",
                "summary": "走访", "visitor_ids": [str(team["zhang"].id)], "move_to": "", **extra}
        return client.post(path, data=data, content_type="multipart/form-data")

    post()  # the box unticked: the visit saves alone
    assert FollowUp.get_by_id(fu.id).status == "open"
    # Reassigned to someone else between opening the form and saving: the user is told.
    services.update(team["sup"], fu, {"title": fu.title, "due_on": fu.due_on, "priority": "medium",
                                      "assignee": team["sup"]}, fu.version)
    resp = post(followup_id=str(fu.id))
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "这条跟进任务不是分派给您的，这次走访将单独保存" in page and FollowUp.get_by_id(fu.id).status == "open"
    assert Visit.select().count() == 2


def test_next_only_leads_back_into_the_site():
    from crm.common.redirects import safe_next
    for bad in ("//evil.example/x", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/ /x",
                "javascript:alert(1)", "", None):
        assert safe_next(bad, "/home") == "/home", bad
    assert safe_next("/?tab=1", "/home") == "/?tab=1"


def test_login_does_not_redirect_off_site(app, team):
    from tests.conftest import login_form
    client = app.test_client()
    client.get("/login?next=/%09/evil.example/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login?next=/%09/evil.example/", data={"username": "zhang", "password": "Tablet-Visit-2026",
                                                               "csrf_token": token})
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]
    assert login_form  # the same form the other login tests use


def test_closing_from_home_returns_home_and_search_keeps_special_characters(app, team):
    fu = _task(team, title="核对100%到会")
    client = login_as(app.test_client(), team["zhang"])
    home = client.get("/").get_data(as_text=True)
    assert f"/followups/{fu.id}?next=/" in home
    page = client.get(f"/followups/{fu.id}?next=/").get_data(as_text=True)
    assert 'name="next" value="/"' in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post(f"/followups/{fu.id}/status", data={"csrf_token": token, "action": "complete",
                                                           "note": "已核对", "next": "/"})
    assert resp.headers["Location"].endswith("/")
    sup = login_as(app.test_client(), team["sup"])
    assert "核对100%到会" in sup.get("/followups/?status=all&q=100%25").get_data(as_text=True)
    assert "核对100%到会" not in sup.get("/followups/?status=all&q=1000").get_data(as_text=True)

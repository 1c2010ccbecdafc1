"""工作概况 on a hand-built data set: every figure equals what was counted by hand below (not by
calling the code under test); scoping and read-only for viewers."""
from datetime import date, datetime, timezone

import pytest

from crm.activities.models import ServiceActivity
from crm.common import timeutil
from crm.dashboard import queries
from crm.enterprises.models import Enterprise
from crm.fieldwork import contact
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingNewMembers
from crm.trainings.models import Training
from crm.visits.models import Visit
from tests.conftest import login_as

TODAY = date(2026, 11, 24)


@pytest.fixture
def world(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    root = make.root()
    a = make.org("甲镇总工会", parent=root)
    s = make.org("甲镇服务站", "station", parent=a)
    b = make.org("乙镇总工会", parent=root)
    admin = make.user("admin", org=root)

    def firm(name, org, stage="not_contacted", **values):
        ent = make.enterprise(org=org, name=name, initial_stage=stage)
        if values:
            Enterprise.update(**values).where(Enterprise.id == ent.id).execute()
        return Enterprise.get_by_id(ent.id)

    f1 = firm("甲一", a, "registered", employees=30, union_founded_on=date(2026, 3, 10),
              last_contact_on=date(2026, 10, 5), is_key=True)
    firm("甲二", s, "contacted", employees=10, is_key=True)
    f3 = firm("甲三", a, "contacted", employees=50, last_contact_on=date(2025, 12, 1))
    f4 = firm("甲四", a, "approved", union_founded_on=date(2025, 6, 1), last_contact_on=date(2026, 11, 1))
    firm("甲五", a, "contacted", status="deregistered")
    f6 = firm("甲六", a, "contacted")
    Enterprise.update(archived=True).where(Enterprise.id == f6.id).execute()
    firm("乙一", b, "registered", employees=100, union_founded_on=date(2026, 5, 1), last_contact_on=TODAY)
    FoundingEvent.update(occurred_on=date(2026, 1, 10)).where(FoundingEvent.kind == "initial").execute()
    from crm.founding.services import move
    move(f3, "willing", admin, expected_from="contacted", occurred_on=date(2026, 4, 1))

    Visit.create(enterprise=f1, visited_on=date(2026, 10, 5), kind="door", summary="走访")
    Visit.create(enterprise=f4, visited_on=date(2026, 11, 1), kind="door", summary="走访")
    Visit.create(enterprise=f3, visited_on=date(2025, 12, 1), kind="door", summary="去年")
    Visit.create(enterprise=f4, visited_on=date(2026, 9, 9), kind="door", summary="归档的", archived=True)
    contact.recompute([f1.id, f3.id, f4.id])  # each file's last contact and visit, as the services keep them

    def meeting(org, day, kind="staff", groups=None, cards=0, archived=False):
        m = Meeting.create(kind=kind, org_unit=org, held_on=day, summary="会", cards=cards, archived=archived,
                           new_members=sum((groups or {}).values()))
        for g, n in (groups or {}).items():
            MeetingNewMembers.create(meeting=m, group=g, count=n)
        return m

    meeting(a, date(2026, 2, 3), groups={"courier": 5, "rider": 3}, cards=4)
    meeting(s, date(2026, 5, 5), groups={"rider": 2})
    meeting(a, date(2026, 6, 1), kind="enterprise")
    meeting(a, date(2026, 6, 2), groups={"courier": 50}, archived=True)
    meeting(b, date(2026, 6, 3), groups={"courier": 7})
    meeting(a, date(2025, 12, 30), groups={"courier": 1})
    ServiceActivity.create(title="义诊", held_on=date(2026, 7, 1), org_unit=a, new_members=6)
    Training.create(title="培训", category="quality", held_on=date(2026, 8, 1), org_unit=a, participants=20,
                    summary="培训")
    Training.create(title="培训", category="quality", held_on=date(2026, 9, 1), org_unit=s, participants=15,
                    summary="培训")
    return {"root": root, "a": a, "s": s, "b": b, "admin": admin, "f3": f3}


def test_every_figure_of_a_year_equals_the_hand_count(app, world):
    period = queries.period_of("year", TODAY)
    assert (period.start, period.end) == (date(2026, 1, 1), TODAY)
    f = queries.figures(world["a"], period, TODAY)
    # Files 甲一–甲五 (甲六 archived); active 甲一–甲四 (甲五 deregistered).
    assert (f.files, f.active) == (5, 4)
    assert (f.unionized, f.union_rate) == (2, 50.0)                 # 甲一, 甲四
    assert (f.large, f.large_unionized, f.large_rate) == (2, 1, 50.0)  # 甲一 (30), 甲三 (50)
    assert f.new_unions == 1                                        # 甲一 on 2026-03-10
    assert (f.contacted_year, f.coverage) == (2, 50.0)              # 甲一, 甲四
    assert f.never == 1                                             # 甲二
    assert (f.key_total, f.key_visited, f.key_rate) == (2, 1, 50.0)  # 甲一 visited 5 Oct
    assert f.by_stage == {"registered": 1, "contacted": 2, "willing": 1, "approved": 1}
    assert f.moves == {"willing": 1}
    assert f.median_days == {"contacted": 81}                       # 10 Jan → 1 Apr

    assert (f.staff_meetings, f.enterprise_meetings) == (2, 1)
    assert f.new_members == {"courier": 5, "rider": 5} and f.members_total == 10
    assert (f.cards, f.activity_members) == (4, 6)
    assert (f.trainings, f.trainees) == (2, 35)
    assert f.visits == 2


def test_a_month_and_the_trends(app, world):
    f = queries.figures(world["a"], queries.period_of("month", TODAY, 2026, 6), TODAY)
    assert (f.staff_meetings, f.enterprise_meetings, f.members_total, f.visits, f.new_unions) == (0, 1, 0, 0, 0)
    f = queries.figures(world["s"], queries.period_of("quarter", TODAY, 2026, 5), TODAY)
    assert (f.files, f.staff_meetings, f.new_members, f.trainings) == (1, 1, {"rider": 2}, 0)
    t = queries.trends(world["a"], TODAY)
    months = [label for label, _ in t["staff"]]
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    assert dict(t["staff"]) == {**dict.fromkeys(months, 0), "2025-12": 1, "2026-02": 1, "2026-05": 1}
    assert dict(t["members"])["2026-02"] == 8 and dict(t["members"])["2025-12"] == 1
    assert {k: v for k, v in t["visits"] if v} == {"2025-12": 1, "2026-10": 1, "2026-11": 1}
    assert {k: v for k, v in t["unions"] if v} == {"2026-03": 1}


def test_the_page_shows_the_figures_with_their_lists(app, make, world):
    client = login_as(app.test_client(), world["admin"])
    html = client.get(f"/dashboard/?org={world['a'].id}&period=year").get_data(as_text=True)
    for text in ("甲镇总工会及下属单位", "50.0%", "已联系 2 / 4 家", "1 / 2 家", "<svg"):
        assert text in html, text
    assert f"/enterprises/?org={world['a'].id}&amp;contact=never" in html
    assert f"/meetings/?org={world['a'].id}&amp;kind=staff&amp;date_from=2026-01-01&amp;date_to=2026-11-24" in html
    # A supervisor of 乙镇 sees 乙镇 only.
    sup = login_as(app.test_client(), make.user("supervisor", org=world["b"]))
    assert sup.get(f"/dashboard/?org={world['a'].id}").status_code == 404
    own = sup.get("/dashboard/").get_data(as_text=True)
    assert "乙镇总工会及下属单位" in own and "甲镇" not in own
    # A viewer reads the figures, with no buttons that change anything.
    viewer = login_as(app.test_client(), make.user("viewer", org=world["a"]))
    html = viewer.get("/dashboard/").get_data(as_text=True)
    assert "甲镇总工会及下属单位" in html
    for label in ("新建档案", "分派", "记录走访", 'method="post"'):
        assert label not in html.split("</nav>", 1)[1], label


def test_median_days_of_a_back_filled_move(app, make, world):
    """A move dated before the file was made counts as a stay of 0 days, not a negative one."""
    from crm.founding.services import move
    ent = make.enterprise(org=world["s"], name="补录企业")
    FoundingEvent.update(occurred_on=date(2026, 3, 1)).where(FoundingEvent.enterprise == ent.id).execute()
    move(ent, "contacted", world["admin"], expected_from="not_contacted", occurred_on=date(2026, 2, 1))
    move(Enterprise.get_by_id(ent.id), "willing", world["admin"], expected_from="contacted",
         occurred_on=date(2026, 2, 21))
    f = queries.figures(world["s"], queries.period_of("year", TODAY), TODAY)
    assert f.median_days == {"not_contacted": 0, "contacted": 20}


def test_each_firm_figure_links_to_a_list_of_the_same_firms(app, world):
    import re
    client = login_as(app.test_client(), world["admin"])
    html = client.get(f"/dashboard/?org={world['a'].id}&period=year").get_data(as_text=True)
    links = {label: href.replace("&amp;", "&") for href, label in
             re.findall(r'<a class="card kpi[^"]*" href="([^"]+)"><div class="card-body">\s*<div class="text-muted">([^<]+)</div>', html)}
    expected = {"已建会": {"甲一", "甲四"}, "25人以上企业建会率": {"甲一", "甲三"}, "从未联系": {"甲二"},
                "期间新建工会": {"甲一"}, "今年覆盖率": {"甲二", "甲三"}, "重点企业本季度走访": {"甲二"}}
    for label, names in expected.items():
        page = client.get(links[label]).get_data(as_text=True)
        listed = set(re.findall(r'class="row-link fw-semibold" href="/enterprises/\d+">([^<]+)</a>', page))
        assert listed == names, (label, listed)
    # The list keeps those filters visibly, and each can be removed.
    page = client.get(links["25人以上企业建会率"]).get_data(as_text=True)
    assert "职工25人以上 ×" in page and 'name="size" value="25"' in page


def test_the_people_table_shows_the_busiest_and_links_to_the_whole_board(app, make, world, monkeypatch):
    from crm.dashboard import views
    from crm.followups.models import FollowUp
    firm = Enterprise.get(Enterprise.name == "甲一")
    busy, calm = make.user(org=world["a"], name="忙碌干部"), make.user(org=world["a"], name="清闲干部")
    for due in (date(2026, 11, 1), date(2026, 11, 2), date(2026, 12, 1)):
        FollowUp.create(title="跟进", org_unit=world["a"], enterprise=firm, assignee=busy,
                        assigned_by=world["admin"], due_on=due)
    FollowUp.create(title="跟进", org_unit=world["a"], enterprise=firm, assignee=calm,
                    assigned_by=world["admin"], due_on=date(2026, 12, 1))
    client = login_as(app.test_client(), world["admin"])
    page = f"/dashboard/?org={world['a'].id}"
    html = client.get(page).get_data(as_text=True)
    assert "忙碌干部" in html and "清闲干部" in html and "more-people" not in html
    monkeypatch.setattr(views, "PEOPLE_SHOWN", 1)
    html = client.get(page).get_data(as_text=True)
    assert "忙碌干部" in html and "清闲干部" not in html
    assert "逾期、未完成最多的 1 人" in html and "团队任务：全部 2 人" in html
    assert f'href="/followups/?org={world["a"].id}"' in html

"""待跟进建议: each rule with a hand-built firm that triggers it and one that does not; an open
follow-up silences a suggestion; the thresholds are admin settings; suggestions become follow-ups
in bulk; a supervisor sees only their subtree."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from crm.common import timeutil
from crm.enterprises.models import Enterprise
from crm.fieldwork import contact
from crm.followups import services, suggestions
from crm.followups.models import FollowUp
from crm.needs.models import Need
from crm.settings import services as settings
from crm.visits.models import Visit
from tests.conftest import login_as
from tests.fieldwork_helpers import form_keys

TODAY = date(2026, 11, 24)  # quarter from 2026-10-01


@pytest.fixture
def town(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    unit = make.org("甲镇总工会")
    other = make.org("乙镇总工会")
    return {"unit": unit, "other": other,
            "sup": make.user("supervisor", org=unit, username="sup", name="主管甲"),
            "staff": make.user("staff", org=unit, username="zhang", name="张三"),
            "admin": make.user("admin", username="admin", name="管理员")}


def firm(make, town, name, **values):
    ent = make.enterprise(org=town["unit"], name=name)
    if values:
        Enterprise.update(**values).where(Enterprise.id == ent.id).execute()
    return Enterprise.get_by_id(ent.id)


def keys(user, rule):
    items, _ = suggestions.page(user, rule)
    return [s.enterprise.name if s.need is None else s.need.detail for s in items]


def contacted(days_ago):
    return {"last_contact_on": TODAY - timedelta(days=days_ago)}


def test_never_contacted(make, town):
    firm(make, town, "从未联系公司")
    firm(make, town, "联系过公司", **contacted(10))
    firm(make, town, "已注销公司", status="deregistered")
    archived = firm(make, town, "已归档公司")
    Enterprise.update(archived=True).where(Enterprise.id == archived.id).execute()
    assert keys(town["sup"], "never") == ["从未联系公司"]


def test_a_never_contacted_file_cites_the_day_its_founding_track_begins(make, town):
    """A ledger imported today says when each file was really filed: the suggestion cites that
    day (the founding track's first entry), not the day it was typed in."""
    make.enterprise(org=town["unit"], name="台账导入公司", initial_stage_on=date(2025, 3, 1))
    make.enterprise(org=town["unit"], name="今天建档公司")
    items, _ = suggestions.page(town["sup"], "never")
    reasons = {s.enterprise.name: s.reason for s in items}
    assert reasons["台账导入公司"].startswith("建档于 2025-03-01，")
    assert reasons["今天建档公司"].startswith(f"建档于 {timeutil.local_today().isoformat()}，")
    resolved = suggestions.resolve(town["sup"], [s.key for s in items])
    assert {s.enterprise.name: s.reason for s in resolved} == reasons


def test_not_contacted_for_90_days(make, town):
    firm(make, town, "91天未联系", **contacted(91))
    firm(make, town, "90天未联系", **contacted(90))
    firm(make, town, "从未联系")  # its own rule
    assert keys(town["sup"], "stale") == ["91天未联系"]
    s = suggestions.page(town["sup"], "stale")[0][0]
    assert s.reason == f"上次联系 {(TODAY - timedelta(days=91)).isoformat()}，已 91 天" and s.title == "回访"


def test_key_firm_not_visited_this_quarter(make, town):
    visited = firm(make, town, "本季度走访过的重点企业", is_key=True)
    last_quarter = firm(make, town, "上季度走访过的重点企业", is_key=True)
    firm(make, town, "普通企业")
    archived_visit = firm(make, town, "本季度走访已归档的重点企业", is_key=True)
    Visit.create(enterprise=visited, visited_on=date(2026, 10, 1), kind="door", summary="走访")
    Visit.create(enterprise=last_quarter, visited_on=date(2026, 9, 30), kind="door", summary="走访")
    Visit.create(enterprise=archived_visit, visited_on=date(2026, 11, 1), kind="door", summary="走访", archived=True)
    contact.recompute([visited.id, last_quarter.id, archived_visit.id])  # as the visit services do
    assert sorted(keys(town["sup"], "key")) == ["上季度走访过的重点企业", "本季度走访已归档的重点企业"]
    assert suggestions.quarter_start(date(2026, 3, 31)) == date(2026, 1, 1)
    assert suggestions.quarter_start(date(2026, 12, 31)) == date(2026, 10, 1)


def test_founding_stalled_for_60_days(make, town):
    firm(make, town, "意向停滞61天", stage="willing", stage_since=TODAY - timedelta(days=61))
    firm(make, town, "意向刚满60天", stage="willing", stage_since=TODAY - timedelta(days=60))
    firm(make, town, "未接触很久", stage="not_contacted", stage_since=TODAY - timedelta(days=400))
    firm(make, town, "已取得法人资格很久", stage="registered", stage_since=TODAY - timedelta(days=400))
    firm(make, town, "暂缓很久", stage="on_hold", stage_since=TODAY - timedelta(days=400))
    assert keys(town["sup"], "stalled") == ["意向停滞61天"]
    assert suggestions.page(town["sup"], "stalled")[0][0].reason.startswith("在“有建会意向”已 61 天")


def test_stage_since_follows_the_founding_track(make, town):
    from crm.founding.services import move
    ent = firm(make, town, "推进中的企业")
    assert ent.stage_since == TODAY
    move(ent, "contacted", town["staff"], expected_from="not_contacted", occurred_on=TODAY - timedelta(days=70))
    assert Enterprise.get_by_id(ent.id).stage_since == TODAY - timedelta(days=70)
    assert keys(town["sup"], "stalled") == ["推进中的企业"]


def test_union_term_ends_within_90_days(make, town):
    firm(make, town, "89天后届满", stage="registered", union_term_end=TODAY + timedelta(days=89))
    firm(make, town, "已届满10天", stage="registered", union_term_end=TODAY - timedelta(days=10))
    firm(make, town, "120天后届满", stage="registered", union_term_end=TODAY + timedelta(days=120))
    firm(make, town, "没有任期", stage="registered")
    assert keys(town["sup"], "term") == ["已届满10天", "89天后届满"]
    reasons = [s.reason for s in suggestions.page(town["sup"], "term")[0]]
    assert reasons[0] == f"本届任期已于 {(TODAY - timedelta(days=10)).isoformat()} 届满 10 天"


def test_needs_open_for_30_days(make, town):
    ent = firm(make, town, "有需求的企业", **contacted(5))
    for detail, days, status in (("31天未解决", 31, "open"), ("处理中31天", 31, "in_progress"),
                                 ("刚满30天", 30, "open"), ("已解决的", 60, "resolved")):
        Need.create(org_unit=town["unit"], enterprise=ent, category="legal", detail=detail,
                    raised_on=TODAY - timedelta(days=days), status=status)
    Need.create(org_unit=town["unit"], enterprise=ent, category="legal", detail="归档的",
                raised_on=TODAY - timedelta(days=90), archived=True)
    assert keys(town["sup"], "need") == ["31天未解决", "处理中31天"]
    # A need raised at a meeting without a firm counts; one of an archived file does not.
    Need.create(org_unit=town["unit"], category="policy", detail="会上提出的", raised_on=TODAY - timedelta(days=50))
    gone = firm(make, town, "已归档的企业")
    Need.create(org_unit=town["unit"], enterprise=gone, category="legal", detail="归档企业的",
                raised_on=TODAY - timedelta(days=50))
    Enterprise.update(archived=True).where(Enterprise.id == gone.id).execute()
    items, _ = suggestions.page(town["sup"], "need")
    assert [s.need.detail for s in items] == ["会上提出的", "31天未解决", "处理中31天"]
    assert items[0].enterprise is None and items[1].enterprise.name == "有需求的企业"


def test_an_open_follow_up_silences_a_suggestion(make, town):
    ent = firm(make, town, "从未联系公司")
    fu, _ = services.create(town["sup"], services.Task("首次走访", ent), town["staff"], TODAY, "medium", "a" * 24)
    assert keys(town["sup"], "never") == []
    services.set_status(town["sup"], fu, "cancel", "联系不上")
    assert keys(town["sup"], "never") == ["从未联系公司"]  # closed: suggested again
    need = Need.create(org_unit=town["unit"], enterprise=ent, category="legal", detail="劳动合同",
                       raised_on=TODAY - timedelta(days=40))
    assert keys(town["sup"], "need") == ["劳动合同"]
    services.create(town["sup"], services.Task("跟进", ent, source="need", source_need_id=need.id),
                    town["staff"], TODAY, "medium", "b" * 24)
    assert keys(town["sup"], "need") == []


def test_thresholds_are_settings_an_admin_changes(app, make, town):
    firm(make, town, "40天未联系", **contacted(40))
    assert keys(town["sup"], "stale") == []
    client = login_as(app.test_client(), town["admin"])
    path = "/admin/settings"
    html = client.get(path).get_data(as_text=True)
    assert "多久未联系提示回访" in html and 'value="90"' in html
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"csrf_token": token, "suggest_contact_days": "30", "suggest_stalled_days": "60",
            "suggest_term_days": "90", "suggest_need_days": "30"}
    resp = client.post(path, data={**data, "suggest_contact_days": "3"})
    assert "应在 7–730 天之间" in resp.get_data(as_text=True)
    assert settings.get_int("suggest.contact_days") == 90
    resp = client.post(path, data=data)
    assert resp.status_code == 302
    assert settings.get_int("suggest.contact_days") == 30
    assert keys(town["sup"], "stale") == ["40天未联系"]
    # Only admins.
    assert login_as(app.test_client(), town["sup"]).get(path).status_code == 403


def test_suggestions_become_follow_ups_in_bulk(app, make, town):
    a = firm(make, town, "从未联系甲")
    b = firm(make, town, "从未联系乙")
    c = firm(make, town, "久未联系丙", **contacted(200))
    make.enterprise(org=town["other"], name="乙镇从未联系")
    client = login_as(app.test_client(), town["sup"])
    html = client.get("/followups/suggestions?rule=never").get_data(as_text=True)
    assert "从未联系甲" in html and "从未联系乙" in html and "乙镇从未联系" not in html
    # Each checkbox has one label, naming what it picks.
    assert 'aria-label="选择：从未联系甲"' in html and 'aria-label="选择：从未联系乙"' in html
    assert '<label for="s-' not in html
    assert suggestions.counts(town["sup"]) == {"never": 2, "stale": 1, "key": 0, "stalled": 0, "term": 0,
                                               "need": 0}
    token, key, _ = form_keys(client, "/followups/suggestions?rule=never")
    resp = client.post("/followups/suggestions?rule=never", data={
        "csrf_token": token, "form_key": key, "items": [f"never:{a.id}", f"never:{b.id}", f"stale:{c.id}"],
        "assignee": str(town["staff"].id), "due_on": (TODAY + timedelta(days=3)).isoformat(),
        "priority": "medium", "title": ""})
    assert resp.status_code == 302
    rows = {fu.enterprise.name: fu for fu in FollowUp.select()}
    assert {n: (fu.title, fu.source, fu.rule) for n, fu in rows.items()} == {
        "从未联系甲": ("首次走访宣传", "suggestion", "never"), "从未联系乙": ("首次走访宣传", "suggestion", "never"),
        "久未联系丙": ("回访", "suggestion", "stale")}
    assert "至今没有走访" in rows["从未联系甲"].detail
    # Not suggested again; a re-sent form makes nothing new.
    assert suggestions.counts(town["sup"])["never"] == 0
    client.post("/followups/suggestions?rule=never", data={
        "csrf_token": token, "form_key": key, "items": [f"never:{a.id}"], "assignee": str(town["staff"].id),
        "due_on": TODAY.isoformat(), "priority": "medium"})
    assert FollowUp.select().count() == 3
    # A key from another town, or one that no longer holds, is dropped.
    other = Enterprise.get(Enterprise.name == "乙镇从未联系")
    assert suggestions.resolve(town["sup"], [f"never:{other.id}", f"never:{a.id}", "bogus:1"]) == []


def test_a_firm_hit_by_two_rules_gets_one_follow_up(make, town):
    ent = firm(make, town, "两条都中", is_key=True)
    picked = suggestions.resolve(town["sup"], [f"never:{ent.id}", f"key:{ent.id}"])
    assert [(s.rule, s.enterprise.id) for s in picked] == [("never", ent.id)]


def test_staff_turn_suggestions_into_their_own_tasks(app, make, town):
    a = firm(make, town, "从未联系甲")
    client = login_as(app.test_client(), town["staff"])
    token, key, _ = form_keys(client, "/followups/suggestions")
    resp = client.post("/followups/suggestions", data={
        "csrf_token": token, "form_key": key, "items": [f"never:{a.id}"], "assignee": str(town["sup"].id),
        "due_on": TODAY.isoformat(), "priority": "medium"})
    assert "只能给自己" in resp.get_data(as_text=True) and FollowUp.select().count() == 0
    client.post("/followups/suggestions", data={
        "csrf_token": token, "form_key": key, "items": [f"never:{a.id}"], "assignee": str(town["staff"].id),
        "due_on": TODAY.isoformat(), "priority": "medium"})
    assert FollowUp.get().assignee_id == town["staff"].id

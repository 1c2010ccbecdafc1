"""批量操作 on the enterprise list (crm/enterprises/bulk.py): move, 区级重点企业, tags and archive for
many files in one transaction, each file's history line and version, the signals a single edit
sends (visits, follow-ups and the aggregates follow), refusals as a whole (out of scope, stale),
the undo, the pages and who may use them, and a selection of 10,000 files."""
import json
import re
from datetime import datetime, timezone

import pytest

from crm.common import signals, timeutil
from crm.common.errors import ServiceError
from crm.db import db
from crm.enterprises import bulk
from crm.enterprises import services as ent_services
from crm.enterprises.models import BulkAction, Enterprise, EnterpriseChange
from crm.followups.models import FollowUp
from crm.stats import queries as stats_queries
from crm.visits.models import Visit
from tests.conftest import csrf_token, login_as, statements
from tests.test_stats import assert_matches_records


@pytest.fixture
def town(app, make):
    """甲镇 with two stations, its supervisor, a staff member and an admin; 乙镇 beside it."""
    root = make.root()
    a = make.org("甲镇总工会", parent=root)
    s1 = make.org("甲镇第一服务站", "station", parent=a)
    s2 = make.org("甲镇第二服务站", "station", parent=a)
    b = make.org("乙镇总工会", parent=root)
    return {"root": root, "a": a, "s1": s1, "s2": s2, "b": b,
            "boss": make.user("supervisor", org=a, name="寇主管"),
            "staff": make.user("staff", org=a), "viewer": make.user("viewer", org=a),
            "admin": make.user("admin", org=root), "other": make.user("supervisor", org=b)}


def files(make, org, n, user=None, **data):
    with db.atomic():  # (one transaction: quicker to set up)
        return [make.enterprise(org=org, user=user, name=f"{org.name}企业{i:04d}", **data) for i in range(n)]


def history(source_prefix):
    return EnterpriseChange.select().where(EnterpriseChange.source.startswith(source_prefix))


def values(ids, column):
    return dict(Enterprise.select(Enterprise.id, column).where(Enterprise.id.in_(list(ids))).tuples())


def count_transactions(monkeypatch):
    """How many (outermost) transactions begin and commit."""
    seen = {"begin": 0, "commit": 0}
    database = db.obj
    for name in seen:
        original = getattr(database, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            seen[_name] += 1
            return _original(*args, **kwargs)
        monkeypatch.setattr(database, name, counted)
    return seen


# ---- move ------------------------------------------------------------------------------------

def test_a_move_of_500_files_is_one_transaction_with_500_history_lines(app, make, town, monkeypatch):
    firms = files(make, town["s1"], 500, town["boss"])
    ids = [f.id for f in firms]
    visit = make.visit(firms[0], town["staff"])
    task = make.followup(town["boss"], firms[1], assignee=town["staff"])
    before = values(ids, Enterprise.version)
    with app.test_request_context():
        action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=ids)
    assert (action.selected, action.changing, action.state) == (500, 500, "preview")
    assert set(values(ids, Enterprise.org_unit).values()) == {town["s1"].id}  # a preview writes nothing

    seen = count_transactions(monkeypatch)
    done = bulk.apply(action.id, town["boss"])
    assert seen == {"begin": 1, "commit": 1}
    assert done.state == "done" and done.changing == 500
    assert set(values(ids, Enterprise.org_unit).values()) == {town["s2"].id}
    assert values(ids, Enterprise.version) == {i: v + 1 for i, v in before.items()}
    lines = list(history(f"bulk:move:{action.id}"))
    assert len(lines) == 500 and {c.enterprise_id for c in lines} == set(ids)
    assert {(c.field, c.old_value, c.new_value, c.user_id) for c in lines} == \
        {("org_unit", "甲镇第一服务站", "甲镇第二服务站", town["boss"].id)}
    assert {c.version for c in lines if c.enterprise_id == ids[0]} == {before[ids[0]] + 1}
    # What a single move takes along: the file's visits and follow-ups.
    assert Visit.get_by_id(visit.id).org_unit_id == town["s2"].id
    assert FollowUp.get_by_id(task.id).org_unit_id == town["s2"].id


def test_the_history_names_the_bulk_action(app, make, town):
    firm = make.enterprise(org=town["s1"], name="北京圆通速递宜家站")
    action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=[firm.id])
    bulk.apply(action.id, town["boss"])
    client = login_as(app.test_client(), town["boss"])
    html = client.get(f"/enterprises/{firm.id}/history").get_data(as_text=True)
    assert "批量操作：变更所属单位" in html and "甲镇第一服务站" in html
    bulk.undo(action.id, town["boss"])
    html = client.get(f"/enterprises/{firm.id}/history").get_data(as_text=True)
    assert "撤销批量操作：变更所属单位" in html


def test_refused_as_a_whole_when_one_file_is_out_of_scope(app, make, town):
    mine = files(make, town["s1"], 20)
    theirs = make.enterprise(org=town["b"], name="乙镇的企业")
    ids = [f.id for f in mine] + [theirs.id]
    with pytest.raises(bulk.OutOfScope, match="不在您的管辖范围内"):
        bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=ids)
    assert BulkAction.select().count() == 0

    # Moved out of scope between the preview and the confirmation: nothing written at all.
    action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=[f.id for f in mine])
    moved = Enterprise.get_by_id(mine[7].id)
    ent_services.update_enterprise(moved.id, {"org_unit": town["b"].id}, town["admin"], moved.version)
    versions = values([f.id for f in mine], Enterprise.version)
    with pytest.raises(bulk.OutOfScope, match=mine[7].name):
        bulk.apply(action.id, town["boss"])
    assert values([f.id for f in mine], Enterprise.version) == versions
    assert set(values([f.id for f in mine if f.id != moved.id], Enterprise.org_unit).values()) == {town["s1"].id}
    assert history("bulk:").count() == 0
    assert BulkAction.get_by_id(action.id).state == "preview"


def test_the_target_unit_must_be_in_scope(app, make, town):
    firm = make.enterprise(org=town["s1"])
    with pytest.raises(ServiceError, match="目标单位不在您的管辖范围内") as exc:
        bulk.prepare(town["boss"], "move", {"unit": town["b"].id}, ids=[firm.id])
    assert exc.value.field == "unit"
    with pytest.raises(ServiceError, match="请选择目标单位"):
        bulk.prepare(town["boss"], "move", {"unit": ""}, ids=[firm.id])
    assert BulkAction.select().count() == 0


def test_a_stale_selection_is_refused(app, make, town):
    firms = files(make, town["s1"], 5)
    ids = [f.id for f in firms]
    action = bulk.prepare(town["boss"], "key", {}, ids=ids)
    edited = Enterprise.get_by_id(ids[2])
    ent_services.update_enterprise(edited.id, {"notes": "预览之后改了备注"}, town["staff"], edited.version)
    with pytest.raises(ServiceError, match=f"预览之后有 1 家企业的档案已被修改：{edited.name}"):
        bulk.apply(action.id, town["boss"])
    assert not any(values(ids, Enterprise.is_key).values())
    assert history("bulk:").count() == 0
    # A new preview of the same selection goes through.
    again = bulk.prepare(town["boss"], "key", {}, ids=ids)
    bulk.apply(again.id, town["boss"])
    assert all(values(ids, Enterprise.is_key).values())


def test_a_preview_is_confirmed_once_and_by_its_author(app, make, town):
    firms = files(make, town["s1"], 3)
    action = bulk.prepare(town["boss"], "key", {}, ids=[f.id for f in firms])
    with pytest.raises(ServiceError, match="只有发起这次批量操作的人可以确认"):
        bulk.apply(action.id, town["admin"])
    bulk.apply(action.id, town["boss"])
    with pytest.raises(ServiceError, match="已经确认过了"):
        bulk.apply(action.id, town["boss"])
    assert history("bulk:").count() == 3


# ---- undo ------------------------------------------------------------------------------------

def test_undo_puts_every_file_back(app, make, town):
    first = files(make, town["s1"], 300)
    already = make.enterprise(org=town["s2"], name="已在第二站的企业")
    ids = [f.id for f in first] + [already.id]
    task = make.followup(town["boss"], first[0], assignee=town["staff"])
    action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=ids)
    assert (action.selected, action.changing) == (301, 300)  # one is there already
    bulk.apply(action.id, town["boss"])
    versions = values(ids, Enterprise.version)
    assert bulk.last_undoable(town["boss"]).id == action.id

    undone = bulk.undo(action.id, town["boss"])
    assert undone.state == "undone" and undone.undone_by_id == town["boss"].id
    assert set(values([f.id for f in first], Enterprise.org_unit).values()) == {town["s1"].id}
    assert values([already.id], Enterprise.org_unit) == {already.id: town["s2"].id}  # never moved
    assert values(ids, Enterprise.version) == {i: v + (i != already.id) for i, v in versions.items()}
    lines = list(history(f"undo:move:{action.id}"))
    assert len(lines) == 300
    assert {(c.old_value, c.new_value) for c in lines} == {("甲镇第二服务站", "甲镇第一服务站")}
    assert FollowUp.get_by_id(task.id).org_unit_id == town["s1"].id
    assert bulk.last_undoable(town["boss"]) is None
    with pytest.raises(ServiceError, match="已经撤销过了"):
        bulk.undo(action.id, town["boss"])


def test_undo_is_refused_when_a_file_changed_since(app, make, town):
    firms = files(make, town["s1"], 10)
    ids = [f.id for f in firms]
    action = bulk.prepare(town["boss"], "tag_add", {"tag": "快递物流"}, ids=ids)
    bulk.apply(action.id, town["boss"])
    changed = Enterprise.get_by_id(ids[4])
    ent_services.update_enterprise(changed.id, {"employees": 30}, town["staff"], changed.version)
    versions = values(ids, Enterprise.version)
    with pytest.raises(ServiceError, match=f"撤销未执行.*1 家.*{changed.name}"):
        bulk.undo(action.id, town["boss"])
    assert values(ids, Enterprise.version) == versions
    assert set(values(ids, Enterprise.tags).values()) == {"快递物流"}
    assert history("undo:").count() == 0


def test_only_the_last_action_of_its_author_is_undone_by_them_or_an_admin(app, make, town):
    firms = files(make, town["s1"], 4)
    ids = [f.id for f in firms]
    first = bulk.prepare(town["boss"], "key", {}, ids=ids[:2])
    bulk.apply(first.id, town["boss"])
    second = bulk.prepare(town["boss"], "key", {}, ids=ids[2:])
    bulk.apply(second.id, town["boss"])
    with pytest.raises(ServiceError, match="只能撤销自己最近一次的批量操作"):
        bulk.undo(first.id, town["boss"])
    other_boss = make.user("supervisor", org=town["a"])
    with pytest.raises(ServiceError, match="只能撤销自己最近一次的批量操作"):
        bulk.undo(second.id, other_boss)
    bulk.undo(second.id, town["admin"])  # an admin may undo anyone's last
    assert values(ids, Enterprise.is_key) == {ids[0]: True, ids[1]: True, ids[2]: False, ids[3]: False}
    bulk.undo(first.id, town["boss"])  # now the last one in force
    assert not any(values(ids, Enterprise.is_key).values())


# ---- key firms, tags, archive ----------------------------------------------------------------

def test_mark_and_unmark_key_firms(app, make, town):
    plain = files(make, town["s1"], 6)
    key = make.enterprise(org=town["s1"], name="已是重点的企业", is_key=True)
    ids = [f.id for f in plain] + [key.id]
    action = bulk.prepare(town["boss"], "key", {}, ids=ids)
    assert (action.selected, action.changing) == (7, 6)
    shown = bulk.preview(action)
    assert [e.name for e, _now in shown.unchanged] == ["已是重点的企业"]
    assert {(now, after) for _e, now, after in shown.changing} == {("否", "是")}
    bulk.apply(action.id, town["boss"])
    assert all(values(ids, Enterprise.is_key).values())
    assert {(c.field, c.old_value, c.new_value) for c in history("bulk:key:")} == {("is_key", "否", "是")}

    action = bulk.prepare(town["boss"], "unkey", {}, ids=ids[:3])
    bulk.apply(action.id, town["boss"])
    assert values(ids, Enterprise.is_key) == {i: n >= 3 for n, i in enumerate(ids)}
    bulk.undo(action.id, town["boss"])
    assert all(values(ids, Enterprise.is_key).values())


def test_add_and_remove_a_tag(app, make, town):
    tagged = make.enterprise(org=town["s1"], name="已有标签的企业", tags="快递物流,楼宇")
    other = make.enterprise(org=town["s1"], name="有别的标签的企业", tags="楼宇")
    bare = make.enterprise(org=town["s1"], name="没有标签的企业")
    ids = [tagged.id, other.id, bare.id]
    assert bulk.tag_counts(ids) == [("楼宇", 2), ("快递物流", 1)]
    action = bulk.prepare(town["boss"], "tag_add", {"tag": "快递物流"}, ids=ids)
    assert (action.selected, action.changing) == (3, 2)
    bulk.apply(action.id, town["boss"])
    assert values(ids, Enterprise.tags) == {tagged.id: "快递物流,楼宇", other.id: "楼宇,快递物流", bare.id: "快递物流"}
    # The tag is part of the search text: the list finds the files by it.
    client = login_as(app.test_client(), town["boss"])
    html = client.get("/enterprises/?q=快递物流").get_data(as_text=True)
    assert all(name in html for name in ("已有标签的企业", "有别的标签的企业", "没有标签的企业"))

    action = bulk.prepare(town["boss"], "tag_remove", {"tag": "楼宇"}, ids=ids)
    assert action.changing == 2
    bulk.apply(action.id, town["boss"])
    assert values(ids, Enterprise.tags) == {tagged.id: "快递物流", other.id: "快递物流", bare.id: "快递物流"}
    assert {(c.old_value, c.new_value) for c in history(f"bulk:tag_remove:{action.id}")} == \
        {("快递物流,楼宇", "快递物流"), ("楼宇,快递物流", "快递物流")}
    bulk.undo(action.id, town["boss"])
    assert values(ids, Enterprise.tags) == {tagged.id: "快递物流,楼宇", other.id: "楼宇,快递物流", bare.id: "快递物流"}
    html = client.get("/enterprises/?q=楼宇").get_data(as_text=True)
    assert "已有标签的企业" in html and "没有标签的企业" not in html

    for tag, message in (("", "请填写标签"), ("甲,乙", "一次填写一个标签"), ("长" * 51, "不能超过 50 个字")):
        with pytest.raises(ServiceError, match=message):
            bulk.prepare(town["boss"], "tag_add", {"tag": tag}, ids=ids)


def test_archive_needs_a_reason_and_ends_what_is_open(app, make, town):
    firms = files(make, town["s1"], 4)
    ids = [f.id for f in firms]
    task = make.followup(town["boss"], firms[0], assignee=town["staff"])
    with pytest.raises(ServiceError, match="请填写归档原因") as exc:
        bulk.prepare(town["boss"], "archive", {"reason": "  "}, ids=ids)
    assert exc.value.field == "reason"
    action = bulk.prepare(town["boss"], "archive", {"reason": "已注销"}, ids=ids)
    bulk.apply(action.id, town["boss"])
    assert all(values(ids, Enterprise.archived).values())
    assert {(c.field, c.new_value) for c in history("bulk:archive:")} == {("archived", "已归档：已注销")}
    assert FollowUp.get_by_id(task.id).status == "cancelled"  # as a single archive does
    # Archived files take no part in another bulk action.
    with pytest.raises(ServiceError, match="已归档的档案"):
        bulk.prepare(town["boss"], "key", {}, ids=ids)
    bulk.undo(action.id, town["boss"])
    assert not any(values(ids, Enterprise.archived).values())
    assert Enterprise.get_by_id(ids[0]).archived_by_id is None
    assert {(c.old_value, c.new_value) for c in history("undo:archive:")} == {("已归档", "恢复在档")}


def test_every_file_matching_the_filters(app, make, town):
    make.enterprise(org=town["s1"], name="圆通速递甲站")
    make.enterprise(org=town["s2"], name="圆通速递乙站")
    make.enterprise(org=town["s1"], name="顺丰速运甲站")
    make.enterprise(org=town["b"], name="圆通速递外镇站")  # out of scope
    gone = make.enterprise(org=town["s1"], name="圆通速递旧站")
    ent_services.set_archived(gone, town["boss"], True, "已注销")
    ids = bulk.selection(town["boss"], filters="q=圆通&archived=all", everything=True)
    assert sorted(Enterprise.get_by_id(i).name for i in ids) == ["圆通速递乙站", "圆通速递甲站"]
    ids = bulk.selection(town["boss"], filters=f"q=圆通&org={town['s2'].id}", everything=True)
    assert [Enterprise.get_by_id(i).name for i in ids] == ["圆通速递乙站"]
    with pytest.raises(ServiceError, match="没有符合筛选条件的在档企业"):
        bulk.selection(town["boss"], filters="q=不存在的名字", everything=True)


# ---- the aggregates ----------------------------------------------------------------------------

def test_the_aggregates_equal_the_records_after_bulk_actions(app, make, town, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    firms = files(make, town["s1"], 30, town["admin"], employees=40)
    make.visit(firms[0], town["staff"])
    units = [town[k].id for k in ("root", "a", "s1", "s2", "b")]
    stats_queries.present(units)
    stats_queries.sums(units, 202501, 202612)
    ids = [f.id for f in firms]
    for name, params in (("move", {"unit": town["s2"].id}), ("key", {}), ("archive", {"reason": "迁出本区"})):
        action = bulk.prepare(town["boss"], name, params, ids=ids)
        bulk.apply(action.id, town["boss"])
        assert_matches_records(f"after a bulk {name}")
        bulk.undo(action.id, town["boss"])
        assert_matches_records(f"after undoing a bulk {name}")
    action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=ids)
    bulk.apply(action.id, town["boss"])
    assert stats_queries.present([town["s2"].id])["files"] == 30
    assert stats_queries.present([town["s1"].id])["files"] == 0


# ---- a large selection -------------------------------------------------------------------------

def _many(org, n):
    """n plain files inserted directly (setting up 10,000 through the form's service is slow)."""
    now = timeutil.utcnow()
    rows = [{"name": f"批量企业{i:05d}", "name_norm": f"批量企业{i:05d}", "org_unit": org.id, "search_text": f"批量企业{i:05d}",
             "created_at": now, "updated_at": now, "stage_changed_at": now} for i in range(n)]
    with db.atomic():
        for start in range(0, n, 100):
            Enterprise.insert_many(rows[start:start + 100]).execute()
    return [i for (i,) in Enterprise.select(Enterprise.id).where(Enterprise.org_unit == org.id).tuples()]


def test_ten_thousand_files_in_batches_within_the_variable_limit(app, make, town):
    ids = _many(town["s1"], bulk.MAX_FILES)
    with statements() as seen:
        action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id},
                              filters=f"org={town['s1'].id}", everything=True)
        shown = bulk.preview(action)
        bulk.apply(action.id, town["boss"])
    assert (action.selected, action.changing) == (10_000, 10_000)
    assert len(shown.changing) == bulk.SAMPLE
    assert max(len(params) for _sql, params in seen) <= 999  # SQLite's smallest limit
    assert Enterprise.select().where(Enterprise.org_unit == town["s2"].id).count() == 10_000
    assert history(f"bulk:move:{action.id}").count() == 10_000
    with statements() as seen:
        bulk.undo(action.id, town["boss"])
    assert max(len(params) for _sql, params in seen) <= 999
    assert Enterprise.select().where(Enterprise.org_unit == town["s1"].id).count() == 10_000
    with statements() as seen:  # a tag: each file's own new tags and search text
        action = bulk.prepare(town["boss"], "tag_add", {"tag": "快递物流"}, ids=ids)
        bulk.apply(action.id, town["boss"])
    assert max(len(params) for _sql, params in seen) <= 999
    assert Enterprise.select().where(Enterprise.tags == "快递物流", Enterprise.search_text.contains("快递物流")).count() \
        == 10_000
    # One more than that is refused before anything is kept.
    _many(town["s2"], 1)
    with pytest.raises(ServiceError, match="一次最多批量操作 10,000 家企业"):
        bulk.prepare(town["boss"], "key", {}, filters=f"org={town['a'].id}", everything=True)
    with pytest.raises(ServiceError, match="一次最多批量操作 10,000 家企业"):
        bulk.prepare(town["boss"], "key", {}, ids=ids + [ids[0] + 10**6])
    assert BulkAction.select().count() == 2


# ---- the pages ---------------------------------------------------------------------------------

def test_the_flow_on_the_pages(app, make, town):
    firms = [make.enterprise(org=town["s1"], name=name) for name in ("甲站一号企业", "甲站二号企业", "甲站三号企业")]
    client = login_as(app.test_client(), town["boss"])
    html = client.get(f"/enterprises/?org={town['s1'].id}").get_data(as_text=True)
    assert ">批量操作</button>" in html and "全选符合筛选条件的 3 家" in html
    assert html.count("选择 甲站一号企业") == 1  # one label, naming the firm

    query = f"ent={firms[0].id}&ent={firms[1].id}&filters=org%3D{town['s1'].id}"
    page = client.get(f"/enterprises/bulk?{query}").get_data(as_text=True)
    assert "已选 <strong>2</strong> 家企业" in page and "甲站一号企业" in page
    token = csrf_token(client, f"/enterprises/bulk?{query}")
    body = {"csrf_token": token, "ent": [firms[0].id, firms[1].id], "filters": f"org={town['s1'].id}",
            "everything": "", "action": "archive", "reason": ""}
    resp = client.post("/enterprises/bulk", data=body)
    assert resp.status_code == 200 and "请填写归档原因" in resp.get_data(as_text=True)
    resp = client.post("/enterprises/bulk", data={**body, "action": "move", "unit": town["s2"].id})
    assert resp.status_code == 302
    preview_url = resp.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "将变更 <strong>2</strong> 家企业：所属单位变更为 甲镇第二服务站" in page
    assert "甲站一号企业" in page and "甲站三号企业" not in page
    again = re.search(r'href="([^"]+)">改选其他操作', page).group(1).replace("&amp;", "&")
    assert "已选 <strong>2</strong> 家企业" in client.get(again).get_data(as_text=True)

    resp = client.post(preview_url + "/apply", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/enterprises/?org={town['s1'].id}")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已完成批量操作：变更所属单位，共 2 家企业。" in html
    assert re.search(r'<a href="/enterprises/bulk/\d+">撤销</a>', html)
    assert ">上次批量操作</a>" in html
    assert {Enterprise.get_by_id(f.id).org_unit_id for f in firms[:2]} == {town["s2"].id}

    page = client.get(preview_url).get_data(as_text=True)
    assert "撤销这次批量操作" in page
    resp = client.post(preview_url + "/undo", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "已撤销批量操作" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert {Enterprise.get_by_id(f.id).org_unit_id for f in firms} == {town["s1"].id}


def test_everything_matching_from_the_page(app, make, town):
    for i in range(3):
        make.enterprise(org=town["s1"], name=f"圆通速递{i}号站")
    make.enterprise(org=town["s1"], name="顺丰速运站")
    client = login_as(app.test_client(), town["boss"])
    html = client.get("/enterprises/?q=圆通").get_data(as_text=True)
    link = re.search(r'href="(/enterprises/bulk\?[^"]+)">全选符合筛选条件的 3 家', html).group(1).replace("&amp;", "&")
    page = client.get(link).get_data(as_text=True)
    assert "已选 <strong>3</strong> 家企业（符合筛选条件的全部在档企业）" in page
    token = csrf_token(client, link)
    resp = client.post("/enterprises/bulk", data={"csrf_token": token, "everything": "1", "filters": "q=圆通",
                                                  "action": "tag_add", "tag": "快递"})
    action = BulkAction.get_by_id(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert action.selected == 3 and json.loads(action.params)["tag"] == "快递"


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewers_have_no_bulk_actions(app, make, town, role):
    firm = make.enterprise(org=town["s1"], name="甲站企业")
    action = bulk.prepare(town["boss"], "key", {}, ids=[firm.id])
    client = login_as(app.test_client(), town[role])
    html = client.get("/enterprises/").get_data(as_text=True)
    assert ">批量操作</button>" not in html and "全选符合筛选条件" not in html
    assert client.get(f"/enterprises/bulk?ent={firm.id}").status_code == 403
    assert client.get(f"/enterprises/bulk/{action.id}").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/enterprises/bulk", data={"csrf_token": token, "ent": firm.id, "action": "key"}).status_code == 403
    assert client.post(f"/enterprises/bulk/{action.id}/apply", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/enterprises/bulk/{action.id}/undo", data={"csrf_token": token}).status_code == 403
    assert BulkAction.get_by_id(action.id).state == "preview" and not Enterprise.get_by_id(firm.id).is_key
    with pytest.raises(ServiceError, match="没有批量操作的权限"):
        bulk.prepare(town[role], "key", {}, ids=[firm.id])


def test_out_of_scope_on_the_pages_is_not_found(app, make, town):
    mine = make.enterprise(org=town["s1"], name="甲站企业")
    theirs = make.enterprise(org=town["b"], name="乙镇企业")
    action = bulk.prepare(town["boss"], "key", {}, ids=[mine.id])
    client = login_as(app.test_client(), town["other"])  # 乙镇's supervisor
    assert client.get(f"/enterprises/bulk?ent={mine.id}").status_code == 404
    assert client.get(f"/enterprises/bulk/{action.id}").status_code == 404
    token = csrf_token(client, "/")
    assert client.post(f"/enterprises/bulk/{action.id}/apply", data={"csrf_token": token}).status_code == 404
    client = login_as(app.test_client(), town["boss"])
    assert client.get(f"/enterprises/bulk?ent={mine.id}&ent={theirs.id}").status_code == 404
    token = csrf_token(client, "/")
    resp = client.post("/enterprises/bulk", data={"csrf_token": token, "ent": [mine.id, theirs.id], "action": "key"})
    assert resp.status_code == 404 and BulkAction.select().count() == 1


def test_a_failure_midway_leaves_nothing_written(app, make, town):
    firms = files(make, town["s1"], 50)
    ids = [f.id for f in firms]
    action = bulk.prepare(town["boss"], "move", {"unit": town["s2"].id}, ids=ids)

    def broken(_sender, ent_ids=(), **_):
        if ids[40] in ent_ids:
            raise RuntimeError("a receiver failed")
    signals.firm_moved.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            bulk.apply(action.id, town["boss"])
    finally:
        signals.firm_moved.disconnect(broken)
    assert set(values(ids, Enterprise.org_unit).values()) == {town["s1"].id}
    assert history("bulk:").count() == 0 and BulkAction.get_by_id(action.id).state == "preview"

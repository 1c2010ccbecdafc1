"""沟通会 and 固定点位: create (contact and the founding move of each participant), group counts,
versioned edit, conflicts, archive, scope, permissions, validation, idempotency, points, ledger
and its .xlsx export."""
import io
import re
import secrets
from datetime import timedelta

from openpyxl import load_workbook

from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.fieldwork.models import RecordChange
from crm.founding.models import FoundingEvent
from crm.meetings import services
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers, OutreachPoint
from crm.needs.models import Need
from crm.photos import services as photos
from tests.conftest import csrf_token, login_as

GROUPS = ("courier", "rider", "ride_hailing", "truck", "domestic", "merchant_staff", "other")


def key():
    return secrets.token_urlsafe(18)


def png(color="red"):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    out.seek(0)
    return out


def meeting_data(unit, **over):
    data = {"kind": "enterprise", "level": "routine", "format": "face", "org_unit": str(unit.id),
            "held_on": local_today().isoformat(), "start_time": "", "title": "", "venue": "镇政府会议室",
            "point": "", "attendees": "10", "cards": "0", "summary": "介绍工会入会政策", "need_detail": "",
            "form_key": key(), "version": ""}
    data.update({f"new_{g}": "0" for g in GROUPS})
    data.update(over)
    return data


def post(client, path, data, token_from=None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def service_meeting(app, user, ents=(), **over):
    """A meeting saved through the service (as the form would)."""
    data = {"kind": "enterprise", "level": "routine", "format": "face", "org_unit": user.org_unit_id,
            "held_on": local_today() - timedelta(days=3), "summary": "沟通会内容", "attendees": 10,
            "enterprise_ids": [e.id for e in ents], "new_members": {}}
    data.update(over)
    with app.app_context():
        meeting, _ = services.create_meeting(data, user, key())
    return Meeting.get_by_id(meeting.id)


def reload(ent):
    return Enterprise.get_by_id(ent.id)


def test_enterprise_meeting_contacts_every_participant(client, make):
    user = make.user("staff")
    ents = [make.enterprise(org=user.org_unit) for _ in range(3)]
    assert all(e.stage == "not_contacted" for e in ents)
    login_as(client, user)
    day = local_today() - timedelta(days=1)
    resp = post(client, "/meetings/new", meeting_data(
        user.org_unit, held_on=day.isoformat(), enterprise_ids=[str(e.id) for e in ents],
        target_groups=["courier", "rider"], new_courier="2", new_rider="3", attendees="12",
        services=["haircut", "legal"], partners=["bank"], need_categories=["legal"], need_detail="劳动合同咨询",
        photos=(png(), "现场.png")))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    meeting = Meeting.get()
    assert [p.original_name for p in photos.of("meeting", meeting.id)] == ["现场.png"]
    assert resp.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert meeting.new_members == 5 and meeting.attendees == 12 and meeting.version == 1
    assert meeting.target_groups == ",courier,rider," and meeting.services == ",haircut,legal,"
    rows = {r.group: r.count for r in MeetingNewMembers.select().where(MeetingNewMembers.meeting == meeting)}
    assert rows == {"courier": 2, "rider": 3}  # only the groups with a count
    assert MeetingEnterprise.select().where(MeetingEnterprise.meeting == meeting).count() == 3
    for ent in ents:
        ent = reload(ent)
        assert ent.stage == "contacted" and ent.last_contact_on == day
        assert ent.last_visit_on is None  # a meeting is contact, not a visit
        event = FoundingEvent.get(FoundingEvent.enterprise == ent, FoundingEvent.to_stage == "contacted")
        assert event.record_kind == "meeting" and event.record_id == meeting.id and event.occurred_on == day
    need = Need.get(Need.meeting == meeting.id)
    assert need.category == "legal" and need.enterprise_id is None and need.org_unit_id == user.org_unit_id
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert all(e.name in page for e in ents)
    assert "快递员 2" in page and "义务理发" in page and "银行" in page and "法律咨询" in page


def test_group_counts_summed_and_single_participant_gets_the_need(app, client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit)
    login_as(client, user)
    resp = post(client, "/meetings/new", meeting_data(
        user.org_unit, kind="staff", enterprise_ids=[str(ent.id)], attendees="30", new_courier="4",
        new_truck="1", new_other="", need_categories=["training"]))
    assert resp.status_code == 302
    meeting = Meeting.get()
    assert meeting.new_members == 5
    assert sorted((r.group, r.count) for r in meeting.group_rows) == [("courier", 4), ("truck", 1)]
    assert Need.get(Need.meeting == meeting.id).enterprise_id == ent.id
    with app.app_context():
        from crm.meetings.kind import snapshot
        assert snapshot(meeting)["新入会人数（纸质登记）"] == "快递员 4、货车司机 1"


def edit_data(meeting, **over):
    counts = {r.group: r.count for r in meeting.group_rows}
    data = meeting_data(meeting.org_unit, kind=meeting.kind, level=meeting.level, format=meeting.format,
                        held_on=meeting.held_on.isoformat(), venue=meeting.venue, summary=meeting.summary,
                        attendees=str(meeting.attendees), cards=str(meeting.cards),
                        enterprise_ids=[str(r.enterprise_id) for r in meeting.enterprise_rows],
                        version=str(meeting.version))
    data.update({f"new_{g}": str(counts.get(g, 0)) for g in GROUPS})
    data.update(over)
    return data


def test_edit_makes_version_two_with_history_and_recomputes_contact(app, client, make):
    user = make.user("staff")
    kept, dropped, added = (make.enterprise(org=user.org_unit) for _ in range(3))
    meeting = service_meeting(app, user, [kept, dropped])
    assert reload(dropped).last_contact_on == meeting.held_on
    login_as(client, user)
    path = f"/meetings/{meeting.id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'value="沟通会内容"' in form or "沟通会内容</textarea>" in form
    assert 'data-draft="meeting:edit:' in form
    resp = post(client, path, edit_data(meeting, attendees="15", summary="补充了会议内容", new_rider="2",
                                        enterprise_ids=[str(kept.id), str(added.id)],
                                        photos=(png("blue"), "补拍.png")))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    meeting = Meeting.get_by_id(meeting.id)
    assert [p.original_name for p in photos.of("meeting", meeting.id)] == ["补拍.png"]
    assert meeting.version == 2 and meeting.attendees == 15 and meeting.new_members == 2
    changes = {c.field: c for c in RecordChange.select().where(RecordChange.kind == "meeting",
                                                               RecordChange.record_id == meeting.id)}
    assert changes["参加人数（纸质登记）"].old_value == "10" and changes["参加人数（纸质登记）"].new_value == "15"
    assert changes["内容摘要"].old_value == "沟通会内容" and changes["内容摘要"].new_value == "补充了会议内容"
    assert changes["新入会人数（纸质登记）"].new_value == "外卖送餐员 2"
    assert changes["参会企业"].new_value == f"{kept.name}、{added.name}"
    assert all(c.version == 2 for c in changes.values())
    assert reload(dropped).last_contact_on is None  # its only contact was this meeting
    assert reload(added).stage == "contacted" and reload(added).last_contact_on == meeting.held_on
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "修改记录" in page and "补充了会议内容" in page and "第 2 版" in page



def test_archive_needs_reason_recomputes_contact_and_restore(app, client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit)
    meeting = service_meeting(app, user, [ent])
    assert reload(ent).last_contact_on == meeting.held_on
    login_as(client, user)
    show = f"/meetings/{meeting.id}"
    resp = post(client, f"{show}/archive", {"reason": ""}, token_from=show)
    assert resp.status_code == 302 and not Meeting.get_by_id(meeting.id).archived
    resp = post(client, f"{show}/archive", {"reason": "重复录入"}, token_from=show)
    assert resp.status_code == 302
    archived = Meeting.get_by_id(meeting.id)
    assert archived.archived and archived.archived_by_id == user.id
    assert reload(ent).last_contact_on is None
    change = RecordChange.get(RecordChange.kind == "meeting", RecordChange.field == "归档")
    assert change.new_value == "已归档：重复录入"
    assert "已归档" in client.get(show).get_data(as_text=True)
    # Not in the current ledger, but in the archived one.
    assert show not in client.get("/meetings/").get_data(as_text=True)
    assert show in client.get("/meetings/?archived=1").get_data(as_text=True)
    resp = post(client, f"{show}/restore", {}, token_from=show)
    assert resp.status_code == 302 and not Meeting.get_by_id(meeting.id).archived
    assert reload(ent).last_contact_on == meeting.held_on


def test_out_of_scope_meeting_and_point_are_404(app, client, make):
    owner = make.user("staff")
    meeting = service_meeting(app, owner)
    with app.app_context():
        point, _ = services.create_point({"name": "万达广场", "org_unit": owner.org_unit_id, "kind": "business_district"},
                                         owner, key())
    other = make.user("staff")  # another town
    login_as(client, other)
    token = csrf_token(client, "/")
    for path in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/edit", f"/meetings/points/{point.id}",
                 f"/meetings/points/{point.id}/edit", f"/meetings/new?point={point.id}"):
        assert client.get(path).status_code == 404, path
    for path in (f"/meetings/{meeting.id}/archive", f"/meetings/points/{point.id}/archive"):
        assert client.post(path, data={"csrf_token": token, "reason": "x"}).status_code == 404, path
    assert f"/meetings/{meeting.id}" not in client.get("/meetings/").get_data(as_text=True)
    assert "万达广场" not in client.get("/meetings/points").get_data(as_text=True)
    # The district (parent unit) sees both.
    login_as(client, make.user("admin"))
    assert client.get(f"/meetings/{meeting.id}").status_code == 200



def test_validation_messages_next_to_fields(client, make):
    user = make.user("staff")
    login_as(client, user)
    future = (local_today() + timedelta(days=1)).isoformat()
    cases = [({"held_on": future}, "held_on", "日期不能晚于今天"),
             ({"attendees": "-1"}, "attendees", "请填写不小于 0 的整数"),
             ({"new_courier": "-2"}, "new_courier", "请填写不小于 0 的整数"),
             ({"summary": "  "}, "summary", "请填写内容摘要"),
             ({"attendees": "3", "new_courier": "2", "new_rider": "2"}, "attendees", "纸质登记的新入会人数合计不能超过纸质登记的参加人数")]
    for over, field, message in cases:
        resp = post(client, "/meetings/new", meeting_data(user.org_unit, venue="保留的地点", **over))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, over
        assert message in html, over
        assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', html), over
        assert 'value="保留的地点"' in html  # the form comes back filled in
    assert Meeting.select().count() == 0


def test_out_of_scope_or_archived_participant_and_unit_refused(app, client, make):
    user = make.user("staff")
    elsewhere = make.enterprise()  # another town
    archived = make.enterprise(org=user.org_unit)
    Enterprise.update(archived=True).where(Enterprise.id == archived.id).execute()
    login_as(client, user)
    for ent in (elsewhere, archived):
        resp = post(client, "/meetings/new", meeting_data(user.org_unit, enterprise_ids=[str(ent.id)]))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "不在您管辖范围内" in html
        assert ent.name not in html  # not even shown back
    other_unit = make.org("别的镇总工会")
    resp = post(client, "/meetings/new", meeting_data(other_unit))
    assert "所选单位不在您的管辖范围内" in resp.get_data(as_text=True)
    assert Meeting.select().count() == 0
    assert reload(elsewhere).stage == "not_contacted" and reload(elsewhere).last_contact_on is None



def test_start_from_point_prefills_and_counts_meetings(app, client, make):
    user = make.user("staff")
    town = user.org_unit
    village = make.org("某服务站", kind="station", parent=town)
    login_as(client, user)
    resp = post(client, "/meetings/points/new", {"name": "兴华路外卖等餐点", "address": "兴华大街88号",
                                                 "org_unit": str(village.id), "kind": "rider_spot",
                                                 "schedule": "每周四上午", "target_groups": ["rider", "courier"],
                                                 "notes": "", "form_key": key()})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    point = OutreachPoint.get()
    assert point.org_unit_id == village.id and point.target_groups == ",rider,courier,"
    listing = client.get("/meetings/points").get_data(as_text=True)
    assert "兴华路外卖等餐点" in listing and f"/meetings/new?point={point.id}" in listing and "0 次" in listing
    html = client.get(f"/meetings/new?point={point.id}").get_data(as_text=True)
    assert 'value="兴华路外卖等餐点"' in html  # venue
    assert re.search(rf'<option selected value="{village.id}">', html)  # org unit
    assert re.search(rf'<option selected value="{point.id}">', html)  # the point
    for group in ("rider", "courier"):
        assert re.search(rf'value="{group}" autocomplete="off" checked', html)
    assert not re.search(r'value="truck" autocomplete="off" checked', html)
    assert re.search(r'value="staff" autocomplete="off" checked', html)
    resp = post(client, "/meetings/new", meeting_data(village, kind="staff", point=str(point.id),
                                                      venue="兴华路外卖等餐点", target_groups=["rider"]),
                token_from=f"/meetings/new?point={point.id}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert Meeting.get().point_id == point.id
    assert "1 次" in client.get("/meetings/points").get_data(as_text=True)
    assert "/meetings/" + str(Meeting.get().id) in client.get(f"/meetings/points/{point.id}").get_data(as_text=True)


def test_point_edit_and_archive(app, client, make):
    user = make.user("staff")
    login_as(client, user)
    with app.app_context():
        point, _ = services.create_point({"name": "物美超市", "org_unit": user.org_unit_id, "kind": "supermarket",
                                          "schedule": "每周二上午"}, user, key())
    path = f"/meetings/points/{point.id}/edit"
    form = client.get(path).get_data(as_text=True)
    assert 'value="物美超市"' in form and 'value="每周二上午"' in form
    data = {"name": "物美超市黄村店", "address": "", "org_unit": str(user.org_unit_id), "kind": "supermarket",
            "schedule": "每周三下午", "notes": "", "version": "1", "form_key": key()}
    assert post(client, path, data).status_code == 302
    point = OutreachPoint.get_by_id(point.id)
    assert point.version == 2 and point.schedule == "每周三下午"
    change = RecordChange.get(RecordChange.kind == "point", RecordChange.field == "活动时间")
    assert change.old_value == "每周二上午" and change.new_value == "每周三下午"
    assert post(client, path, {**data, "name": "旧版本上的修改"}).status_code == 409
    assert OutreachPoint.get_by_id(point.id).name == "物美超市黄村店"
    show = f"/meetings/points/{point.id}"
    assert post(client, f"{show}/archive", {"reason": "超市已关闭"}, token_from=show).status_code == 302
    assert OutreachPoint.get_by_id(point.id).archived
    assert "物美超市黄村店" not in client.get("/meetings/points").get_data(as_text=True)
    assert "物美超市黄村店" in client.get("/meetings/points?archived=1").get_data(as_text=True)
    assert "物美超市黄村店" not in client.get("/meetings/new").get_data(as_text=True)  # not offered any more
    resp = post(client, "/meetings/new", meeting_data(user.org_unit, point=str(point.id)))
    assert resp.status_code == 200 and Meeting.select().count() == 0
    assert post(client, f"{show}/restore", {}, token_from=show).status_code == 302
    assert not OutreachPoint.get_by_id(point.id).archived


def test_ledger_filters_by_kind_and_group_and_exports_them(app, client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, name="顺丰速运大兴营业部")
    a = service_meeting(app, user, [ent], kind="enterprise", target_groups=["courier"], title="甲会",
                        attendees=20, new_members={"courier": 3, "rider": 1}, cards=4, services=["haircut"])
    b = service_meeting(app, user, kind="staff", target_groups=["rider", "courier"], title="乙会")
    c = service_meeting(app, user, kind="staff", target_groups=["truck"], title="丙会")
    login_as(client, user)
    html = client.get("/meetings/?kind=staff").get_data(as_text=True)
    assert f"/meetings/{b.id}\"" in html and f"/meetings/{c.id}\"" in html and f"/meetings/{a.id}\"" not in html
    html = client.get("/meetings/?group=courier").get_data(as_text=True)
    assert f"/meetings/{a.id}\"" in html and f"/meetings/{b.id}\"" in html and f"/meetings/{c.id}\"" not in html
    html = client.get("/meetings/?kind=staff&group=courier").get_data(as_text=True)
    assert f"/meetings/{b.id}\"" in html and f"/meetings/{a.id}\"" not in html and f"/meetings/{c.id}\"" not in html

    resp = client.get("/meetings/export.xlsx?group=courier")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert header[:12] == ("日期", "时间", "类型", "级别", "形式", "组织单位", "主题", "地点", "固定点位", "面向群体",
                           "参加人数", "新入会人数")
    assert "新入会人数·快递员" in header and "新入会人数·外卖送餐员" in header
    assert header[-6:] == ("会员互助服务卡办理数", "服务内容", "合作单位", "参会企业", "内容摘要", "记录人")
    body = rows[1:]
    assert sorted(r[header.index("主题")] for r in body) == ["乙会", "甲会"]
    first = next(r for r in body if r[header.index("主题")] == "甲会")
    assert first[header.index("类型")] == "企业沟通会" and first[header.index("新入会人数")] == 4
    assert first[header.index("新入会人数·快递员")] == 3 and first[header.index("新入会人数·外卖送餐员")] == 1
    assert first[header.index("会员互助服务卡办理数")] == 4 and first[header.index("服务内容")] == "义务理发"
    assert first[header.index("参会企业")] == "顺丰速运大兴营业部" and first[header.index("记录人")] == user.name
    ws = load_workbook(io.BytesIO(client.get("/meetings/export.xlsx?kind=staff&group=truck").data)).active
    assert [r[6] for r in ws.iter_rows(min_row=2, values_only=True)] == ["丙会"]


def test_enterprise_meeting_from_a_file_lists_that_enterprise(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, name="瀛海一对一企业")
    login_as(client, user)
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert f"/meetings/new?kind=enterprise&amp;ent={ent.id}" in page
    html = client.get(f"/meetings/new?kind=enterprise&ent={ent.id}").get_data(as_text=True)
    assert f'name="enterprise_ids" value="{ent.id}"' in html and "瀛海一对一企业" in html
    assert re.search(r'value="enterprise" autocomplete="off" checked', html)
    other = make.enterprise(org=make.org("别的镇"), name="别人的企业")
    assert client.get(f"/meetings/new?kind=enterprise&ent={other.id}").status_code == 404

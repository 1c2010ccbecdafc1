"""会员台账: the roster and a member's page, scoped by the unit that recruited them; phones
masked everywhere but once, for a 主管 of that unit who asks (each reading in the audit log);
the filters; the export; 办理互助卡, 归档, corrections against the version, erasure that keeps the
counts (SQLite and PostgreSQL)."""
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from crm.audit.models import AuditEvent
from crm.meetings.models import Meeting, MeetingNewMembers, OutreachPoint
from crm.members import links, services
from crm.members.models import Member, SignUp
from tests.conftest import csrf_token, login_as

PHONES = {"王师傅": "13911112222", "李师傅": "13722223333", "赵师傅": "13633334444", "钱师傅": "15844445555"}


@pytest.fixture
def w(app, make):
    """Two towns and a station under the first; people of each role; members who joined at
    their meetings (signed up through the link, confirmed by staff)."""
    district = make.root()
    town = make.org("高米店街道总工会")
    station = make.org("高米店服务站", kind="station", parent=town)
    other = make.org("瀛海镇总工会")
    users = {"staff": make.user("staff", town), "supervisor": make.user("supervisor", town),
             "viewer": make.user("viewer", town), "admin": make.user("admin", district),
             "station_boss": make.user("supervisor", station), "station_staff": make.user("staff", station),
             "other_staff": make.user("staff", other), "other_boss": make.user("supervisor", other)}
    meeting = make.meeting(users["staff"], kind="staff", attendees=0, title="高米店骑手沟通会")
    station_meeting = make.meeting(users["station_staff"], kind="staff", attendees=0, title="服务站沟通会")
    other_meeting = make.meeting(users["other_staff"], kind="staff", attendees=0, title="瀛海沟通会")
    out = {"users": users, "town": town, "station": station, "other": other, "meeting": meeting,
           "station_meeting": station_meeting, "other_meeting": other_meeting}
    out["m"] = {
        "王师傅": join(app, meeting, users["staff"], name="王师傅", group="rider", platform="meituan",
                    station="美团高米店站"),
        "李师傅": join(app, meeting, users["staff"], name="李师傅", group="courier", platform="sf"),
        "赵师傅": join(app, station_meeting, users["station_staff"], name="赵师傅", group="courier",
                    platform="other", employer="京城搬家公司"),
        "钱师傅": join(app, other_meeting, users["other_staff"], name="钱师傅", group="rider", platform="eleme"),
    }
    for record, user in ((meeting, users["staff"]), (station_meeting, users["station_staff"]),
                         (other_meeting, users["other_staff"])):
        confirm_all(app, record, user)
    return out


def join(app, record, staff, kind="meeting", phone=None, **answers) -> Member:
    """A worker signs up by the record's link (entered on the cadre's tablet)."""
    data = {"phone": phone or PHONES[answers["name"]], "consent": "y", **answers}
    with app.test_request_context():
        result = services.sign_up(links.token_for(kind, record), data, "127.0.0.1", staff=staff)
    return Member.get_by_id(result.signup.member_id)


def confirm_all(app, record, user, field=SignUp.meeting):
    with app.app_context():
        ids = [s.id for s in SignUp.select().where(field == record.id, SignUp.state == "pending")]
        services.decide(ids, user, confirm=True)


def client_of(app, user):
    return login_as(app.test_client(), user)


def names_listed(html) -> set:
    return set(re.findall(r'class="row-link" href="/members/\d+">([^<]+)<', html))


def listed(app, user, **args) -> set:
    resp = client_of(app, user).get("/members/", query_string=args, follow_redirects=True)
    assert resp.status_code == 200
    return names_listed(resp.get_data(as_text=True))


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/members/"), **data})


def phone_reads(member) -> int:
    return AuditEvent.select().where(AuditEvent.kind == "phone_read", AuditEvent.target_kind == "member",
                                     AuditEvent.target_id == member.id).count()


# ---- scope --------------------------------------------------------------------------------

def test_the_roster_is_scoped_by_the_unit_that_recruited_the_member(app, w):
    u, m = w["users"], w["m"]
    assert listed(app, u["staff"]) == {"王师傅", "李师傅", "赵师傅"}  # the town and its station
    assert listed(app, u["station_staff"]) == {"赵师傅"}
    assert listed(app, u["other_staff"]) == {"钱师傅"}
    assert listed(app, u["admin"]) == set(PHONES)
    # Another unit's member does not exist for them: the page, the edit form and every action.
    client = client_of(app, u["staff"])
    theirs = m["钱师傅"].id
    assert client.get(f"/members/{theirs}").status_code == 404
    assert client.get(f"/members/{theirs}/edit").status_code == 404
    for action, data in (("card", {"issued": "1"}), ("archive", {"reason": "重复"}), ("restore", {}),
                         ("edit", {"name": "改名", "group": "rider", "version": "1"})):
        assert post(client, f"/members/{theirs}/{action}", **data).status_code == 404, action
    boss = client_of(app, u["supervisor"])
    assert post(boss, f"/members/{theirs}/phone").status_code == 404
    assert listed(app, u["staff"], q=PHONES["钱师傅"]) == set()
    member = Member.get_by_id(theirs)
    assert (member.name, member.card_issued, member.archived, member.version) == ("钱师傅", False, False, 1)
    assert phone_reads(member) == 0


def test_void_members_are_never_listed(app, w, make):
    u = w["users"]
    meeting = make.meeting(u["staff"], kind="staff", attendees=0)
    member = join(app, meeting, u["staff"], phone="18855556666", name="孙师傅", group="rider", platform="meituan")
    assert "孙师傅" in listed(app, u["staff"], state="pending")
    with app.app_context():
        services.decide([SignUp.get(SignUp.member == member.id).id], u["staff"], confirm=False)
    assert Member.get_by_id(member.id).state == "void"
    assert listed(app, u["admin"]) == set(PHONES)
    assert client_of(app, u["admin"]).get(f"/members/{member.id}").status_code == 404


# ---- viewers --------------------------------------------------------------------------------

def test_a_viewer_sees_the_roster_masked_and_has_no_actions(app, w):
    viewer, member = w["users"]["viewer"], w["m"]["王师傅"]
    client = client_of(app, viewer)
    html = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "139****2222" in html and PHONES["王师傅"] not in html
    for label in ("显示完整号码", "办理互助卡", "修改信息", "归档原因", "删除个人信息"):
        assert label not in html, label
    assert client.get(f"/members/{member.id}/edit").status_code == 403
    for action, data in (("card", {"issued": "1"}), ("archive", {"reason": "重复"}), ("restore", {}),
                         ("edit", {"name": "改名", "group": "rider", "version": "1"}), ("phone", {}),
                         ("erase", {"reason": "本人申请", "confirm": "y"})):
        assert post(client, f"/members/{member.id}/{action}", **data).status_code == 403, action
    member = Member.get_by_id(member.id)
    assert (member.name, member.card_issued, member.archived, member.erased_at) == ("王师傅", False, False, None)
    assert phone_reads(member) == 0


# ---- the full number ------------------------------------------------------------------------

def test_only_a_supervisor_of_the_members_unit_reads_the_full_number_and_each_reading_is_logged(app, w):
    u, member = w["users"], w["m"]["王师傅"]
    boss = client_of(app, u["supervisor"])
    page = boss.get(f"/members/{member.id}").get_data(as_text=True)
    assert "显示完整号码" in page and PHONES["王师傅"] not in page
    for n in (1, 2):
        resp = post(boss, f"/members/{member.id}/phone")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and PHONES["王师傅"] in html and 'id="full-phone"' in html
        assert resp.headers["Cache-Control"] == "no-store"
        assert phone_reads(member) == n
    event = AuditEvent.select().where(AuditEvent.kind == "phone_read").order_by(AuditEvent.id.desc()).get()
    assert event.user_id == u["supervisor"].id and event.target_id == member.id and "139****2222" in event.detail
    assert PHONES["王师傅"] not in event.detail
    # Shown once: the page read again shows the mask only.
    assert PHONES["王师傅"] not in boss.get(f"/members/{member.id}").get_data(as_text=True)
    # Nobody else: staff and the admin (403), the station's own 主管 for a town member and the
    # town's 主管 for the station's member (in scope, not their unit: no button, 403), the
    # other town's 主管 (404).
    station_member = w["m"]["赵师傅"]
    refused = [("staff", member, 403), ("admin", member, 403), ("viewer", member, 403),
               ("supervisor", station_member, 403), ("other_boss", member, 404)]
    for who, target, status in refused:
        client = client_of(app, u[who])
        if status == 403:
            assert "显示完整号码" not in client.get(f"/members/{target.id}").get_data(as_text=True), who
        resp = post(client, f"/members/{target.id}/phone")
        assert resp.status_code == status, who
        assert PHONES[target.name] not in resp.get_data(as_text=True)
    assert phone_reads(member) == 2 and phone_reads(station_member) == 0
    resp = post(client_of(app, u["station_boss"]), f"/members/{station_member.id}/phone")
    assert PHONES["赵师傅"] in resp.get_data(as_text=True) and phone_reads(station_member) == 1


def _cells(data: bytes) -> list:
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_no_page_or_export_shows_a_full_number(app, w):
    u, m = w["users"], w["m"]
    digits = list(PHONES.values())
    for who in ("staff", "supervisor", "viewer", "station_boss", "other_staff", "admin"):
        client = client_of(app, u[who])
        pages = ["/members/", "/members/?archived=1", f"/members/?q={PHONES['王师傅']}"]
        pages += [f"/members/{x.id}" for x in m.values()] + [f"/members/{x.id}/edit" for x in m.values()]
        for path in pages:
            resp = client.get(path, follow_redirects=True)
            body = resp.get_data()
            assert resp.status_code in (200, 403, 404), (who, path)
            for number in digits:
                assert number.encode() not in body, (who, path)
        before = AuditEvent.select().where(AuditEvent.kind == "export").count()
        resp = client.get("/members/export.xlsx")
        assert resp.status_code == 200
        for number in digits:
            assert number.encode() not in resp.data, who  # the workbook's bytes
        assert AuditEvent.select().where(AuditEvent.kind == "export").count() == before + 1
        cells = _cells(resp.data)
        text = " ".join(str(v) for row in cells for v in row if v is not None)
        for number in digits:
            assert number not in text, who
        assert cells[0][:2] == ["姓名", "手机号"]
        if who == "admin":
            assert {row[1] for row in cells[1:]} == {f"{p[:3]}****{p[-4:]}" for p in digits}
    event = AuditEvent.select().where(AuditEvent.kind == "export").order_by(AuditEvent.id.desc()).get()
    assert "会员台账" in event.detail and "4 行" in event.detail


def test_a_full_number_searched_for_stays_out_of_urls_and_the_audit_log(app, w):
    """The box's full number is answered by a redirect to its keyed hash and its mask: the page,
    its links (the export's among them) and the export's audit entry hold neither the number."""
    client = client_of(app, w["users"]["staff"])
    resp = client.get("/members/", query_string={"q": "139-1111-2222", "group": "rider"})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert "13911112222" not in location and "group=rider" in location and "q=" not in location
    html = client.get(location).get_data(as_text=True)
    assert names_listed(html) == {"王师傅"} and "手机号：139****2222" in html
    export = re.search(r'href="([^"]+)" id="roster-export"', html).group(1).replace("&amp;", "&")
    cells = _cells(client.get(export).data)
    assert [row[0] for row in cells[1:]] == ["王师傅"]
    event = AuditEvent.select().where(AuditEvent.kind == "export").order_by(AuditEvent.id.desc()).get()
    assert "1 行" in event.detail and "13911112222" not in event.detail and "phone=" in event.detail
    # Typed straight into the export's URL: the same redirect.
    resp = client.get("/members/export.xlsx?q=13911112222")
    assert resp.status_code == 302 and "13911112222" not in resp.headers["Location"]
    # A name and the number's chip together; removing the chip searches by the name alone.
    chip = re.search(r'href="([^"]+)" title="去掉这个条件" id="phone-filter"', html).group(1).replace("&amp;", "&")
    assert names_listed(client.get(chip).get_data(as_text=True)) == {"王师傅"}  # group=rider stays
    assert "phone=" not in chip


def test_the_export_holds_exactly_the_filtered_rows(app, w):
    client = client_of(app, w["users"]["staff"])
    cells = _cells(client.get("/members/export.xlsx?group=courier").data)
    rows = {row[0]: row for row in cells[1:]}
    assert set(rows) == {"李师傅", "赵师傅"}
    assert rows["赵师傅"][3] == "京城搬家公司" and rows["赵师傅"][6] == "高米店服务站"
    assert rows["李师傅"][8].startswith("沟通会：") and "高米店骑手沟通会" in rows["李师傅"][8]
    assert isinstance(rows["李师傅"][7], datetime)


# ---- filters --------------------------------------------------------------------------------

def test_each_filter_narrows_the_roster(app, w, make):
    u, m = w["users"], w["m"]
    staff = u["staff"]
    everyone = {"王师傅", "李师傅", "赵师傅"}
    assert listed(app, staff) == everyone
    assert listed(app, staff, q="王") == {"王师傅"}
    assert listed(app, staff, q="139 1111 2222") == {"王师傅"}  # a full number, typed any way
    resp = client_of(app, staff).get("/members/", query_string={"q": "1391111"})
    assert names_listed(resp.get_data(as_text=True)) == set()  # never by a part of a number
    assert "按手机号查找请输入完整的 11 位号码" in resp.get_data(as_text=True)
    assert listed(app, staff, q="2222") == set()
    assert listed(app, staff, group="courier") == {"李师傅", "赵师傅"}
    assert listed(app, staff, platform="meituan") == {"王师傅"}
    assert listed(app, staff, platform="other") == {"赵师傅"}
    assert listed(app, staff, org=w["station"].id) == {"赵师傅"}
    assert listed(app, staff, org=w["town"].id) == everyone
    # Joined: dates in Beijing time (a member who joined at 23:30 on the 1st joined on the 1st).
    first = datetime(2026, 5, 1, 15, 30)  # UTC: 23:30 on 1 May in Beijing
    Member.update(joined_at=first).where(Member.id == m["李师傅"].id).execute()
    Member.update(joined_at=first + timedelta(days=10)).where(Member.id == m["赵师傅"].id).execute()
    assert listed(app, staff, date_from="2026-05-01", date_to="2026-05-01") == {"李师傅"}
    assert listed(app, staff, date_from="2026-05-02", date_to="2026-05-31") == {"赵师傅"}
    assert listed(app, staff, date_to="2026-05-30") == {"李师傅", "赵师傅"}
    resp = client_of(app, staff).get("/members/?date_from=2026-13-01")
    assert resp.status_code == 200 and "日期格式应为" in resp.get_data(as_text=True)
    assert names_listed(resp.get_data(as_text=True)) == everyone
    # The meeting or point they signed up at (attendance counts too, not only joining there).
    assert listed(app, staff, meeting=w["meeting"].id) == {"王师傅", "李师傅"}
    with app.app_context():
        services.sign_up(token(app, "meeting", w["station_meeting"]), {
            "name": "王师傅", "phone": PHONES["王师傅"], "group": "rider", "platform": "meituan", "consent": "y"},
            "127.0.0.1", staff=u["station_staff"])
    assert listed(app, staff, meeting=w["station_meeting"].id) == {"王师傅", "赵师傅"}
    resp = client_of(app, staff).get("/members/", query_string={"meeting": w["other_meeting"].id})
    assert "找不到这场沟通会" in resp.get_data(as_text=True)
    point = OutreachPoint.create(name="高米店北快递驿站", org_unit=w["town"], kind="express_station",
                                 created_by=staff)
    with app.app_context():
        services.sign_up(token(app, "point", point), {
            "name": "李师傅", "phone": PHONES["李师傅"], "group": "courier", "platform": "sf", "consent": "y"},
            "127.0.0.1", staff=staff)
    held_there = make.meeting(staff, kind="staff", attendees=0, point=point.id)
    with app.app_context():
        services.sign_up(token(app, "meeting", held_there), {
            "name": "赵师傅", "phone": PHONES["赵师傅"], "group": "courier", "platform": "sf", "consent": "y"},
            "127.0.0.1", staff=staff)
    assert listed(app, staff, point=point.id) == {"李师傅", "赵师傅"}
    assert "高米店北快递驿站" in client_of(app, staff).get("/members/").get_data(as_text=True)  # the select
    # 互助卡 and state.
    client = client_of(app, staff)
    assert post(client, f"/members/{m['王师傅'].id}/card", issued="1").status_code == 303
    assert listed(app, staff, card="1") == {"王师傅"}
    assert listed(app, staff, card="0") == {"李师傅", "赵师傅"}
    new_meeting = make.meeting(staff, kind="staff", attendees=0)
    join(app, new_meeting, staff, phone="18666667777", name="周师傅", group="domestic", platform="other",
         employer="好家政")
    assert listed(app, staff, state="pending") == {"周师傅"}
    assert listed(app, staff, state="active") == everyone
    assert listed(app, staff, group="courier", card="0", org=w["station"].id) == {"赵师傅"}
    # Nonsense in the URL is left out, never an error page.
    for args in ({"group": "pilot"}, {"org": "x"}, {"meeting": "-1"}, {"point": "abc"}, {"card": "2"},
                 {"state": "void"}, {"page": "99999999"}, {"q": "'%_\\"}):
        assert client.get("/members/", query_string=args).status_code == 200, args
    assert listed(app, staff, state="void") == everyone | {"周师傅"}


def token(app, kind, record):
    with app.test_request_context():
        return links.token_for(kind, record)


def test_the_roster_is_paged_with_its_count(app, w):
    app.config["PAGE_SIZE"] = 2
    client = client_of(app, w["users"]["staff"])
    first = client.get("/members/").get_data(as_text=True)
    assert "共 3 人" in first and len(names_listed(first)) == 2 and "下一页" in first
    second = client.get("/members/?page=2").get_data(as_text=True)
    assert len(names_listed(second)) == 1
    assert names_listed(first) | names_listed(second) == {"王师傅", "李师傅", "赵师傅"}


def test_the_list_shows_where_each_member_joined(app, w):
    html = client_of(app, w["users"]["staff"]).get("/members/").get_data(as_text=True)
    row = re.search(r'<tr data-member="%d">(.*?)</tr>' % w["m"]["赵师傅"].id, html, re.S).group(1)
    assert "京城搬家公司" in row and "高米店服务站" in row and "未办理" in row and "会员" in row
    assert f'href="/meetings/{w["station_meeting"].id}"' in row and "服务站沟通会" in row


# ---- the member's page ------------------------------------------------------------------------

def test_the_members_page_lists_their_sign_ups_linked_when_in_scope(app, w):
    u, member = w["users"], w["m"]["王师傅"]
    with app.app_context():
        services.sign_up(token(app, "meeting", w["other_meeting"]), {
            "name": "王师傅", "phone": PHONES["王师傅"], "group": "rider", "platform": "meituan", "consent": "y"},
            "127.0.0.1", staff=u["other_staff"])
    html = client_of(app, u["staff"]).get(f"/members/{member.id}").get_data(as_text=True)
    signups = html[html.index('id="signups"'):]
    assert "2 次" in signups and "新会员" in signups and "参加" in signups
    assert f'href="/meetings/{w["meeting"].id}"' in signups and "高米店骑手沟通会" in signups
    # The other town's meeting: its unit, no title, no link.
    assert "沟通会：瀛海镇总工会" in signups and "瀛海沟通会" not in signups
    assert f'href="/meetings/{w["other_meeting"].id}"' not in signups


def test_card_archive_and_restore(app, w):
    member = w["m"]["王师傅"]
    client = client_of(app, w["users"]["staff"])
    assert post(client, f"/members/{member.id}/card", issued="1").status_code == 303
    assert Member.get_by_id(member.id).card_issued
    assert "撤销办卡记录" in client.get(f"/members/{member.id}").get_data(as_text=True)
    post(client, f"/members/{member.id}/card", issued="0")
    assert not Member.get_by_id(member.id).card_issued
    resp = post(client, f"/members/{member.id}/archive", reason="  ")
    assert resp.status_code == 200 and "请填写归档原因" in resp.get_data(as_text=True)
    assert not Member.get_by_id(member.id).archived
    assert post(client, f"/members/{member.id}/archive", reason="已离开本区").status_code == 303
    assert "王师傅" not in listed(app, w["users"]["staff"])
    assert listed(app, w["users"]["staff"], archived="1") == {"王师傅"}
    assert client.get(f"/members/{member.id}/edit").status_code == 303  # restore first
    assert post(client, f"/members/{member.id}/restore").status_code == 303
    assert "王师傅" in listed(app, w["users"]["staff"])
    details = [e.detail for e in AuditEvent.select().where(AuditEvent.kind == "member",
                                                           AuditEvent.target_id == member.id)]
    assert "办理会员互助服务卡" in details and "归档会员：已离开本区" in details and "恢复会员" in details


# ---- corrections ------------------------------------------------------------------------------

def _edit_data(**changes):
    return {"name": "王建国", "group": "courier", "platform": "sf", "employer": "", "station": "顺丰亦庄站",
            "version": "1", **changes}


def test_a_correction_is_saved_with_its_version_and_a_stale_one_is_refused(app, w, make):
    u, member = w["users"], w["m"]["王师傅"]
    client = client_of(app, u["staff"])
    form = client.get(f"/members/{member.id}/edit").get_data(as_text=True)
    assert 'value="王师傅"' in form and "139****2222" in form and PHONES["王师傅"] not in form
    # Someone else changes the member meanwhile (the card counts as a change of version).
    post(client_of(app, u["supervisor"]), f"/members/{member.id}/card", issued="1")
    resp = post(client, f"/members/{member.id}/edit", **_edit_data())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "您的修改还没有保存" in html and "王建国" in html
    assert Member.get_by_id(member.id).name == "王师傅"
    assert 'name="version" type="hidden" value="2"' in html
    resp = post(client, f"/members/{member.id}/edit", **_edit_data(version="2"))
    assert resp.status_code == 303
    saved = Member.get_by_id(member.id)
    assert (saved.name, saved.group, saved.platform, saved.station, saved.version) == \
        ("王建国", "courier", "sf", "顺丰亦庄站", 3)
    assert saved.phone_mask == "139****2222"
    event = AuditEvent.select().where(AuditEvent.kind == "member", AuditEvent.target_id == member.id) \
        .order_by(AuditEvent.id.desc()).get()
    assert event.detail.startswith("修改会员信息：") and "姓名" in event.detail and "王建国" not in event.detail


def test_a_bad_correction_gets_its_message_beside_the_field(app, w, make):
    u, member = w["users"], w["m"]["王师傅"]
    client = client_of(app, u["staff"])
    for changes, message in (({"name": " "}, "请填写姓名"), ({"group": "pilot"}, "请选择职业群体"),
                             ({"platform": "other", "employer": ""}, "请填写所在单位名称"),
                             ({"platform": "nope"}, "请选择所在平台或单位"), ({"name": "名" * 300}, "不能超过")):
        resp = post(client, f"/members/{member.id}/edit", **_edit_data(**changes))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and message in html, changes
        assert 'value="顺丰亦庄站"' in html  # what was typed stays
    theirs = make.enterprise(org=w["other"], name="瀛海物流有限公司")
    resp = post(client, f"/members/{member.id}/edit", **_edit_data(enterprise_ids=str(theirs.id)))
    html = resp.get_data(as_text=True)
    assert "企业档案不存在或不在管辖范围内" in html and "瀛海物流有限公司" not in html
    assert Member.get_by_id(member.id).name == "王师傅"
    mine = make.enterprise(org=w["town"], name="美团高米店站点")
    assert post(client, f"/members/{member.id}/edit", **_edit_data(enterprise_ids=str(mine.id))).status_code == 303
    assert Member.get_by_id(member.id).enterprise_id == mine.id
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert f'href="/enterprises/{mine.id}"' in page
    # Out of the reader's scope the file is not named.
    Member.update(enterprise=theirs.id).where(Member.id == member.id).execute()
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "瀛海物流有限公司" not in page and "其他单位的档案" in page


# ---- erasure ----------------------------------------------------------------------------------

def test_erasure_by_an_admin_removes_name_and_phone_and_keeps_the_counts(app, w):
    u, member, meeting = w["users"], w["m"]["王师傅"], w["meeting"]
    before = Meeting.get_by_id(meeting.id)
    groups = dict(MeetingNewMembers.select(MeetingNewMembers.group, MeetingNewMembers.count)
                  .where(MeetingNewMembers.meeting == meeting.id).tuples())
    assert (before.attendees, before.new_members) == (2, 2) and groups["rider"] == 1
    for who in ("staff", "supervisor", "viewer"):
        assert post(client_of(app, u[who]), f"/members/{member.id}/erase", reason="本人申请",
                    confirm="y").status_code == 403
    admin = client_of(app, u["admin"])
    page = admin.get(f"/members/{member.id}").get_data(as_text=True)
    assert "删除个人信息" in page and "人数都不变" in page
    resp = post(admin, f"/members/{member.id}/erase", reason="", confirm="y")
    assert resp.status_code == 200 and "请填写删除依据" in resp.get_data(as_text=True)
    resp = post(admin, f"/members/{member.id}/erase", reason="本人 12 月 2 日电话申请")
    assert resp.status_code == 200 and "请勾选确认" in resp.get_data(as_text=True)
    assert Member.get_by_id(member.id).name == "王师傅"
    assert post(admin, f"/members/{member.id}/erase", reason="本人 12 月 2 日电话申请",
                confirm="y").status_code == 303
    gone = Member.get_by_id(member.id)
    assert gone.name == services.ERASED_NAME and gone.phone_mask == "" and gone.phone_secret == ""
    assert gone.phone_key is None and gone.station == "" and gone.erased_by_id == u["admin"].id
    assert gone.group == "rider" and gone.state == "active"
    after = Meeting.get_by_id(meeting.id)
    assert (after.attendees, after.new_members) == (2, 2)
    assert dict(MeetingNewMembers.select(MeetingNewMembers.group, MeetingNewMembers.count)
                .where(MeetingNewMembers.meeting == meeting.id).tuples()) == groups
    assert SignUp.select().where(SignUp.member == member.id).count() == 1
    page = admin.get(f"/members/{member.id}").get_data(as_text=True)
    assert "应本人申请删除" in page and "王师傅" not in page and "139****2222" not in page
    assert services.ERASED_NAME in listed(app, u["staff"])
    assert listed(app, u["staff"], q=PHONES["王师傅"]) == set()
    # Nothing left to read, nothing to correct.
    boss = client_of(app, u["supervisor"])
    assert "显示完整号码" not in boss.get(f"/members/{member.id}").get_data(as_text=True)
    assert client_of(app, u["staff"]).get(f"/members/{member.id}/edit").status_code == 303
    assert post(admin, f"/members/{member.id}/erase", reason="again", confirm="y").status_code == 303
    assert Member.get_by_id(member.id).erased_by_id == u["admin"].id

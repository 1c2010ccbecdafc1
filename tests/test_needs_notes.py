"""Each need raised at a visit or meeting keeps its own note (create, edit, its page, the ledgers and
workbooks, the migration); 见到的联系人 is picked from the file's contacts, someone new can be added
as a contact in the same save, and a contact of another firm is refused; the meeting's 新入会人数
fields start empty."""
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from crm.common.timeutil import local_today
from crm.enterprises.models import Contact, EnterpriseChange
from crm.fieldwork.models import RecordChange
from crm.meetings.models import Meeting
from crm.needs.models import Need
from crm.visits.models import Visit, VisitContact
from tests.conftest import csrf_token, login_as
from tests.fieldwork_helpers import page_form, posted


@pytest.fixture
def town(make):
    org = make.org("瀛海镇总工会")
    staff = make.user("staff", org=org, name="李佳伟")
    ent = make.enterprise(org=org, name="京东物流瀛海营业部", contact={"name": "刘芳", "title": "总经理助理",
                                                                     "phone": "16612341209"})
    other = make.enterprise(org=org, name="顺丰速运瀛海站", contact={"name": "汪刚", "phone": "13811112222"})
    return {"org": org, "staff": staff, "ent": ent, "other": other,
            "liu": Contact.get(Contact.enterprise == ent.id), "wang": Contact.get(Contact.enterprise == other.id)}


def visit_form(client, ent, **typed):
    """The visit form as the browser sends it (what the page holds), with `typed` on top."""
    path = f"/enterprises/{ent.id}/visits/new"
    fields = page_form(client.get(path).get_data(as_text=True))
    body = posted(fields, {"summary": "见到人事经理，介绍建会流程", **typed})
    return client.post(path, data=body, content_type="multipart/form-data")


def edit_form(client, visit_id, **typed):
    path = f"/visits/{visit_id}/edit"
    html = client.get(path).get_data(as_text=True)
    return client.post(path, data=posted(page_form(html), typed), content_type="multipart/form-data"), html


def needs_of(visit):
    return {n.category: n.detail for n in Need.select().where(Need.visit == visit.id)}


# ---- each need its own note ------------------------------------------------------------------

def test_each_ticked_need_keeps_its_own_note(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], need_categories=["legal", "hardship", "training"],
                      need_note_legal="劳动合同续签咨询", need_note_hardship="职工家属重病")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    visit = Visit.get()
    assert needs_of(visit) == {"legal": "劳动合同续签咨询", "hardship": "职工家属重病", "training": ""}
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    needs = page[page.index('id="needs"'):]
    assert needs.index("法律咨询") < needs.index("劳动合同续签咨询") < needs.index("困难帮扶") < needs.index("职工家属重病")
    legal = Need.get(Need.category == "legal")
    shown = client.get(f"/needs/{legal.id}").get_data(as_text=True)
    assert "劳动合同续签咨询" in shown and "职工家属重病" not in shown


def test_a_note_typed_beside_an_unticked_box_raises_that_need(app, town):
    """Without JavaScript every note is on the page: a note typed is not lost."""
    client = login_as(app.test_client(), town["staff"])
    assert visit_form(client, town["ent"], need_note_policy="社保政策咨询").status_code == 302
    assert needs_of(Visit.get()) == {"policy": "社保政策咨询"}


def test_a_form_kept_from_before_sends_one_note_for_all(app, town):
    """A form kept in a device's outbox from before the notes were per need: its one note goes to
    every need that has none of its own."""
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], need_categories=["legal", "training"], need_detail="合同和培训")
    assert resp.status_code == 302
    assert needs_of(Visit.get()) == {"legal": "合同和培训", "training": "合同和培训"}


def test_every_need_row_has_its_own_note_field(app, town):
    client = login_as(app.test_client(), town["staff"])
    html = client.get(f"/enterprises/{town['ent'].id}/visits/new").get_data(as_text=True)
    rows = re.findall(r'<div class="col need-row" data-need-row>(.*?)</div>\s*</div>', html, re.S)
    assert len(rows) == 8
    for key in ("founding", "legal", "other"):
        row = next(r for r in rows if f'value="{key}"' in r)
        assert f'name="need_note_{key}"' in row and 'data-need-note' in row
    assert 'name="need_detail"' not in html  # one shared box no more


def test_a_note_too_long_is_refused_beside_it_and_kept(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], need_categories=["legal"], need_note_legal="长" * 2001,
                      summary="带了宣传折页")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "不能超过 2000 个字" in html and "带了宣传折页" in html
    assert Visit.select().count() == 0 and Need.select().count() == 0


def test_edit_shows_each_needs_note_and_saves_them_apart(app, town):
    client = login_as(app.test_client(), town["staff"])
    visit_form(client, town["ent"], need_categories=["legal", "hardship"],
               need_note_legal="劳动合同续签咨询", need_note_hardship="职工家属重病")
    visit = Visit.get()
    legal, hardship = Need.get(Need.category == "legal"), Need.get(Need.category == "hardship")
    resp, html = edit_form(client, visit.id, **{f"raised_{legal.id}": "劳动合同续签和加班费咨询"},
                           need_categories=["culture"], need_note_culture="想组织健步走")
    # The form showed each need's own note beside it, and offered only the categories not raised.
    assert f'name="raised_{legal.id}"' in html and "劳动合同续签咨询</textarea>" in html
    assert f'name="raised_{hardship.id}"' in html and "职工家属重病</textarea>" in html
    assert 'name="need_categories" id="need_categories-1"' not in html and 'value="legal"' not in html
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert needs_of(visit) == {"legal": "劳动合同续签和加班费咨询", "hardship": "职工家属重病", "culture": "想组织健步走"}
    change = RecordChange.get(RecordChange.kind == "need", RecordChange.record_id == legal.id)
    assert (change.field, change.old_value, change.new_value) == ("说明", "劳动合同续签咨询", "劳动合同续签和加班费咨询")
    assert not RecordChange.select().where(RecordChange.kind == "need", RecordChange.record_id == hardship.id).exists()
    assert Need.get_by_id(legal.id).version == 2 and Need.get_by_id(hardship.id).version == 1


def test_a_note_changed_elsewhere_meanwhile_is_not_overwritten(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    visit_form(client, town["ent"], need_categories=["legal"], need_note_legal="合同咨询")
    visit, need = Visit.get(), Need.get()
    path = f"/visits/{visit.id}/edit"
    fields = page_form(client.get(path).get_data(as_text=True))
    # Someone else corrects the note on the need's page.
    other = login_as(app.test_client(), make.user("supervisor", org=town["org"]))
    token = csrf_token(other, f"/needs/{need.id}")
    assert other.post(f"/needs/{need.id}", data={"csrf_token": token, "version": "1", "status": "in_progress",
                                                 "category": "legal", "detail": "劳动合同续签咨询",
                                                 "resolution": ""}).status_code == 302
    resp = client.post(path, data=posted(fields, {f"raised_{need.id}": "合同与加班费咨询", "summary": "补充摘要"}),
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已被他人改为“劳动合同续签咨询”" in html
    assert "合同与加班费咨询</textarea>" in html and "补充摘要" in html  # nothing typed lost
    assert Need.get_by_id(need.id).detail == "劳动合同续签咨询" and Visit.get().summary != "补充摘要"
    # Saved again, having seen it: what is typed here wins.
    again = client.post(path, data=posted(page_form(html), {}), content_type="multipart/form-data")
    assert again.status_code == 302, again.get_data(as_text=True)
    assert Need.get_by_id(need.id).detail == "合同与加班费咨询" and Visit.get().summary == "补充摘要"


def test_ticking_a_raised_need_again_is_refused(app, town):
    client = login_as(app.test_client(), town["staff"])
    visit_form(client, town["ent"], need_categories=["legal"], need_note_legal="合同咨询")
    resp, _ = edit_form(client, Visit.get().id, need_categories=["legal"], need_note_legal="又一条")
    assert resp.status_code == 200 and "“法律咨询”已经记录" in resp.get_data(as_text=True)
    assert Need.select().count() == 1 and Need.get().detail == "合同咨询"


def test_meeting_needs_keep_their_own_notes_on_create_and_edit(app, make):
    user = make.user("staff")
    client = login_as(app.test_client(), user)
    fields = page_form(client.get("/meetings/new").get_data(as_text=True))
    resp = client.post("/meetings/new", data=posted(fields, {
        "summary": "介绍入会政策", "attendees": "8", "need_categories": ["legal", "care"],
        "need_note_legal": "骑手劳动合同", "need_note_care": "夜班骑手压力大"}), content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    meeting = Meeting.get()
    notes = {n.category: n.detail for n in Need.select().where(Need.meeting == meeting.id)}
    assert notes == {"legal": "骑手劳动合同", "care": "夜班骑手压力大"}
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "骑手劳动合同" in page and "夜班骑手压力大" in page
    care = Need.get(Need.category == "care")
    path = f"/meetings/{meeting.id}/edit"
    html = client.get(path).get_data(as_text=True)
    assert "骑手劳动合同</textarea>" in html and "夜班骑手压力大</textarea>" in html
    resp = client.post(path, data=posted(page_form(html), {f"raised_{care.id}": "夜班骑手压力大，想要心理讲座"}),
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    notes = {n.category: n.detail for n in Need.select().where(Need.meeting == meeting.id)}
    assert notes == {"legal": "骑手劳动合同", "care": "夜班骑手压力大，想要心理讲座"}


def test_ledgers_and_workbooks_show_each_needs_note(app, town):
    client = login_as(app.test_client(), town["staff"])
    visit_form(client, town["ent"], need_categories=["legal", "hardship"],
               need_note_legal="劳动合同续签咨询", need_note_hardship="职工家属重病")
    html = client.get("/needs/").get_data(as_text=True)
    assert "劳动合同续签咨询" in html and "职工家属重病" in html
    book = load_workbook(io.BytesIO(client.get("/needs/export.xlsx").data)).active
    rows = list(book.iter_rows(values_only=True))
    col, kind = rows[0].index("需求意见说明"), rows[0].index("类别")
    assert sorted((r[kind], r[col]) for r in rows[1:]) == [("困难帮扶", "职工家属重病"), ("法律咨询", "劳动合同续签咨询")]
    visits = list(load_workbook(io.BytesIO(client.get("/visits/export.xlsx").data)).active.iter_rows(values_only=True))
    assert visits[1][visits[0].index("需求意见")] == "法律咨询：劳动合同续签咨询；困难帮扶：职工家属重病"


# ---- 见到的联系人 --------------------------------------------------------------------------------

def test_the_form_lists_the_files_contacts_with_masked_phones(app, town):
    client = login_as(app.test_client(), town["staff"])
    html = client.get(f"/enterprises/{town['ent'].id}/visits/new").get_data(as_text=True)
    box = html[html.index('id="contacts-met"'):html.index('id="needs-raised"')]
    assert f'name="contact_ids" id="contact_ids-0" value="{town["liu"].id}"' in box
    assert "刘芳 · 总经理助理 · 166****1209" in box and "16612341209" not in box
    assert "汪刚" not in box  # another firm's contact


def test_a_contact_picked_is_linked_and_shown(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], contact_ids=[str(town["liu"].id)], contacts_met="张主管（行政）")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    visit = Visit.get()
    assert [r.contact_id for r in VisitContact.select().where(VisitContact.visit == visit.id)] == [town["liu"].id]
    assert visit.contacts_met == "张主管（行政）"
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert re.search(r'id="met">刘芳（总经理助理）、张主管（行政）</dd>', page)
    rows = list(load_workbook(io.BytesIO(client.get("/visits/export.xlsx").data)).active.iter_rows(values_only=True))
    assert rows[1][rows[0].index("见到的联系人")] == "刘芳（总经理助理）、张主管（行政）"
    # Editing: the contact is ticked, unticking it drops the link (recorded in the history).
    html = client.get(f"/visits/{visit.id}/edit").get_data(as_text=True)
    assert re.search(rf'value="{town["liu"].id}" autocomplete="off" checked', html)
    resp, _ = edit_form(client, visit.id, contact_ids=[])
    assert resp.status_code == 302 and not VisitContact.select().exists()
    change = RecordChange.get(RecordChange.kind == "visit", RecordChange.field == "见到的联系人")
    assert (change.old_value, change.new_value) == ("刘芳（总经理助理）、张主管（行政）", "张主管（行政）")


def test_someone_new_is_added_as_a_contact_in_the_same_save(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], contacts_met="张伟", add_contact="y", new_contact_title="人事主管",
                      new_contact_phone="139 1234 5678")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    visit = Visit.get()
    added = Contact.get(Contact.enterprise == town["ent"].id, Contact.name == "张伟")
    assert (added.title, added.phone, added.is_primary) == ("人事主管", "13912345678", False)
    assert [r.contact_id for r in VisitContact.select()] == [added.id] and visit.contacts_met == ""
    assert EnterpriseChange.select().where(EnterpriseChange.enterprise == town["ent"].id,
                                           EnterpriseChange.field == "contact",
                                           EnterpriseChange.new_value.contains("张伟")).exists()
    assert "张伟（人事主管）" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "张伟" in client.get(f"/enterprises/{town['ent'].id}").get_data(as_text=True)
    # The next visit's form offers the new contact.
    html = client.get(f"/enterprises/{town['ent'].id}/visits/new").get_data(as_text=True)
    assert f'name="contact_ids" id="contact_ids-1" value="{added.id}"' in html


def test_a_visit_refused_adds_no_contact(app, town):
    """The contact is added in the visit's transaction: a visit refused later in it adds none."""
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], contacts_met="张伟", add_contact="y", move_to="preparing")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "跨阶段推进需要填写说明" in html and 'value="张伟"' in html
    assert Visit.select().count() == 0
    assert not Contact.select().where(Contact.name == "张伟").exists()


@pytest.mark.parametrize("typed, field, message", [
    ({"contacts_met": ""}, "contacts_met", "请在“其他见到的人”中填写姓名"),
    ({"contacts_met": "张伟、李娜"}, "contacts_met", "只填写一个人的姓名"),
    ({"contacts_met": "张伟", "new_contact_phone": "12345"}, "new_contact_phone", "电话"),
])
def test_adding_a_contact_says_what_is_wrong_beside_the_field(app, town, typed, field, message):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], add_contact="y", summary="带了宣传折页", **typed)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and message in html and "带了宣传折页" in html
    assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', html)
    assert Visit.select().count() == 0 and Contact.select().count() == 2


def test_a_contact_of_another_firm_cannot_be_posted(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp = visit_form(client, town["ent"], contact_ids=[str(town["liu"].id), str(town["wang"].id)],
                      summary="带了宣传折页", contacts_met="张主管")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "所选的联系人不是这家企业的联系人" in html
    assert "带了宣传折页" in html and 'value="张主管"' in html
    assert re.search(rf'value="{town["liu"].id}" autocomplete="off" checked', html)  # the rest stays ticked
    assert Visit.select().count() == 0 and not VisitContact.select().exists()


def test_a_removed_contact_stays_on_the_visits_that_named_it(app, town):
    from crm.enterprises.services import archive_contact
    client = login_as(app.test_client(), town["staff"])
    visit_form(client, town["ent"], contact_ids=[str(town["liu"].id)])
    visit = Visit.get()
    with app.app_context():
        archive_contact(town["liu"], town["staff"])
    assert 'name="contact_ids"' not in client.get(f"/enterprises/{town['ent'].id}/visits/new").get_data(as_text=True)
    html = client.get(f"/visits/{visit.id}/edit").get_data(as_text=True)
    assert "刘芳 · 总经理助理 · 166****1209（已移除）" in html
    resp, _ = edit_form(client, visit.id, summary="补充")
    assert resp.status_code == 302 and VisitContact.select().count() == 1


# ---- 新入会人数 ------------------------------------------------------------------------------------

def test_new_member_fields_are_labelled_by_group_and_start_empty(app, make):
    user = make.user("staff")
    client = login_as(app.test_client(), user)
    html = client.get("/meetings/new").get_data(as_text=True)
    grid = html[html.index('id="new-members"'):]
    grid = grid[:grid.index("</fieldset>")]
    assert grid.count("新入会人数") == 1 + 1 + 7  # the heading, the note on sign-ups, and the hidden prefix of each group's name
    assert '<label class="form-label small mb-1" for="new_courier"><span class="visually-hidden">纸质登记新入会人数·</span>快递员</label>' in grid
    fields = re.findall(r"<input[^>]+>", grid)
    assert len(fields) == 7
    assert all('inputmode="numeric"' in f and 'value=' not in f.replace('value=""', "") for f in fields)
    # Empty is 0 on save.
    fields = page_form(html)
    resp = client.post("/meetings/new", data=posted(fields, {"summary": "介绍入会政策", "new_courier": "3",
                                                             "attendees": "5"}), content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    meeting = Meeting.get()
    assert meeting.new_members == 3 and meeting.cards == 0
    edit = client.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert re.search(r'id="new_courier"[^>]*value="3"', edit) and not re.search(r'id="new_rider"[^>]*value="0"', edit)


# ---- the migration ---------------------------------------------------------------------------------

def test_the_migration_keeps_every_needs_note(tmp_path):
    """Needs raised before 0018 with one note for all: each keeps it as its own after the upgrade
    (and after a downgrade and upgrade again); the visits keep their free-text contacts."""
    from crm import schema
    from crm.auth.models import User
    from crm.db import bind
    from crm.enterprises.models import Enterprise
    from crm.org.services import create_unit
    database = bind(f"sqlite:///{tmp_path / 'notes.db'}")
    database.connect(reuse_if_open=True)
    schema.upgrade()
    later = [name for name, _ in schema.status() if name >= "0018_need_notes"]
    assert schema.runner().down("0018_need_notes") == later[::-1]
    assert "visit_contact" not in database.get_tables()
    unit = create_unit("测试区总工会", "district", None)
    user = User.create(username="u", name="用户", role="staff", org_unit=unit, password_hash="x")
    firm = Enterprise.create(name="企业", name_norm="企业", org_unit=unit, created_by=user)
    visit = Visit.create(enterprise=firm, org_unit=unit, visited_on=date(2026, 11, 2), kind="door", summary="走访",
                         contacts_met="王经理（人事）")
    for category in ("legal", "training"):
        Need.create(org_unit=unit, enterprise=firm, visit=visit, category=category, detail="合同和培训",
                    raised_on=date(2026, 11, 2), created_by=user)
    assert schema.upgrade() == later
    assert "visit_contact" in database.get_tables()
    assert sorted((n.category, n.detail) for n in Need.select()) == [("legal", "合同和培训"), ("training", "合同和培训")]
    assert Visit.get_by_id(visit.id).contacts_met == "王经理（人事）"
    VisitContact.create(visit=visit, contact=Contact.create(enterprise=firm, name="王经理"))
    assert schema.runner().down("0018_need_notes") == later[::-1]
    assert (Need.select().count(), Visit.get_by_id(visit.id).contacts_met) == (2, "王经理（人事）")
    assert schema.upgrade() == later
    database.close()

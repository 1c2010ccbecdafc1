"""The founding track: moves as dated events with who, note and evidence; derived 建会状态."""
import json
import re
from datetime import timedelta

import pytest

from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise, EnterpriseChange
from crm.founding import services, stages
from crm.founding.models import FoundingEvent
from tests.conftest import csrf_token, login_as


def move(client, ent, to, **data):
    path = f"/enterprises/{ent.id}/stage?to={to}"
    token = csrf_token(client, path)
    current = Enterprise.get_by_id(ent.id)
    payload = {"from_stage": current.stage, "occurred_on": local_today().isoformat(), "note": "",
               "evidence_text": "", "csrf_token": token}
    payload.update(data)
    return client.post(path, data=payload)


def test_union_status_derived_from_stage():
    assert [stages.union_status(s.key) for s in stages.STAGES] == \
        ["none"] * 3 + ["preparing"] * 4 + ["founded"] * 2
    assert all(stages.union_status(s.key) == "none" for s in stages.SIDE_STATES)


def test_next_stage_move_with_evidence(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="willing")
    login_as(client, user)
    day = local_today() - timedelta(days=3)
    resp = move(client, ent, "applied", occurred_on=day.isoformat(),
                ev_request_sent_on=day.isoformat(), evidence_text="请示文件扫描件已存档")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ev = FoundingEvent.select().where(FoundingEvent.to_stage == "applied").get()
    assert ev.from_stage == "willing" and ev.kind == "forward" and ev.user_id == user.id
    assert ev.occurred_on == day
    assert json.loads(ev.evidence) == {"request_sent_on": day.isoformat(), "text": "请示文件扫描件已存档"}
    assert Enterprise.get_by_id(ent.id).union_status == "preparing"
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "请示文件扫描件已存档" in page and "筹建中" in page
    change = EnterpriseChange.get(EnterpriseChange.field == "stage")
    assert (change.old_value, change.new_value, change.source) == ("有建会意向", "已提交建会请示", "founding")


def test_skip_forward_needs_note(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    login_as(client, user)
    resp = move(client, ent, "recruiting")
    assert resp.status_code == 200 and "跨阶段推进需要填写说明" in resp.get_data(as_text=True)
    assert Enterprise.get_by_id(ent.id).stage == "not_contacted"
    assert move(client, ent, "recruiting", note="企业主动申请，一次完成筹备").status_code == 302
    assert FoundingEvent.get(FoundingEvent.to_stage == "recruiting").kind == "skip"


def test_backward_move_needs_note(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="preparing")
    login_as(client, user)
    assert "回退需要填写原因" in move(client, ent, "willing").get_data(as_text=True)
    assert move(client, ent, "willing", note="筹备组解散，重新动员").status_code == 302
    assert FoundingEvent.get(FoundingEvent.to_stage == "willing").kind == "back"


def test_side_state_needs_reason_and_is_not_unionized(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="contacted")
    login_as(client, user)
    assert "需要填写原因" in move(client, ent, "not_eligible").get_data(as_text=True)
    assert move(client, ent, "not_eligible", note="职工仅12人，纳入联合工会").status_code == 302
    ent = Enterprise.get_by_id(ent.id)
    assert ent.stage == "not_eligible" and ent.union_status == "none"
    # Leaving a side state also needs a note.
    assert "恢复推进需要填写说明" in move(client, ent, "willing").get_data(as_text=True)


def test_reaching_approved_asks_for_union_fields(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="elected")
    login_as(client, user)
    form = client.get(f"/enterprises/{ent.id}/stage?to=approved").get_data(as_text=True)
    assert "工会名称" in form and "工会主席" in form and "本届任期届满" in form
    resp = move(client, ent, "approved", ev_approval_no="京大工复〔2026〕12号", union_name="某某公司工会",
                union_chair="刘主席", member_count="40", union_founded_on=local_today().isoformat(),
                union_form="single", union_term_end="2031-06-30")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ent = Enterprise.get_by_id(ent.id)
    assert ent.union_status == "founded" and ent.union_chair == "刘主席" and ent.member_count == 40
    assert ent.version == 2  # union fields are part of the file: an open edit form is now stale
    fields = {c.field for c in EnterpriseChange.select().where(EnterpriseChange.source == "founding")}
    assert {"stage", "union_name", "union_chair", "member_count", "union_term_end"} <= fields


def test_registered_requires_valid_81_code(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="approved")
    login_as(client, user)
    html = move(client, ent, "registered", union_credit_code="91350100M000100Y43").get_data(as_text=True)
    assert "应以 81 开头" in html
    assert Enterprise.get_by_id(ent.id).stage == "approved"


def test_concurrent_move_refused(make, app):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    services.move(ent, "contacted", user, expected_from="not_contacted")
    with pytest.raises(ServiceError, match="已被他人改为"):
        services.move(ent, "contacted", user, expected_from="not_contacted")
    assert FoundingEvent.select().where(FoundingEvent.enterprise == ent).count() == 2


def test_future_date_refused(make, app):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    with pytest.raises(ServiceError, match="不能晚于今天"):
        services.move(ent, "contacted", user, expected_from="not_contacted",
                      occurred_on=local_today() + timedelta(days=1))


def test_track_shows_every_move(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    for frm, to in [("not_contacted", "contacted"), ("contacted", "willing"), ("willing", "on_hold")]:
        services.move(ent, to, user, expected_from=frm, note="记录" + to)
    login_as(client, user)
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    for label in ("已走访宣传", "有建会意向", "暂缓", "记录on_hold", "转入特殊状态"):
        assert label in html


def test_unknown_target_stage_404(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    login_as(client, user)
    assert client.get(f"/enterprises/{ent.id}/stage?to=nonsense").status_code == 404


def test_move_dated_before_previous_event_refused(make, app):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    services.move(ent, "contacted", user, expected_from="not_contacted")
    with pytest.raises(ServiceError, match="不能早于上一次进度变更"):
        services.move(ent, "willing", user, expected_from="contacted",
                      occurred_on=local_today() - timedelta(days=30))


def test_registered_code_asked_once_and_kept_as_evidence(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, initial_stage="approved")
    login_as(client, user)
    form = client.get(f"/enterprises/{ent.id}/stage?to=registered").get_data(as_text=True)
    assert form.count('name="union_credit_code"') == 1 and "ev_union_credit_code" not in form
    from crm.enterprises.creditcode import check_char
    code = "81110115MA0000001"
    code += check_char(code)
    resp = move(client, ent, "registered", union_credit_code=code, union_form="")
    assert resp.status_code == 302, re.findall(r"alert[^>]*>([^<]*)|invalid-feedback[^>]*>([^<]*)", resp.get_data(as_text=True))
    ev = FoundingEvent.get(FoundingEvent.to_stage == "registered")
    assert json.loads(ev.evidence)["union_credit_code"] == code
    assert Enterprise.get_by_id(ent.id).union_credit_code == code


def test_lost_race_writes_no_event(make, app, monkeypatch):
    """If another move commits between the check and the update, nothing of ours is written."""
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    real_get = Enterprise.get_by_id

    def stale_read(pk):
        row = real_get(pk)
        Enterprise.update(stage="willing").where(Enterprise.id == pk).execute()  # the other writer
        return row
    monkeypatch.setattr(Enterprise, "get_by_id", stale_read)
    with pytest.raises(ServiceError, match="刚被他人修改"):
        services.move(ent, "contacted", user, expected_from="not_contacted")
    monkeypatch.undo()
    assert FoundingEvent.select().where(FoundingEvent.enterprise == ent).count() == 1

"""Moving an enterprise along the founding track (建会进度). One transaction per move."""
import json
from datetime import date

from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today, utcnow
from crm.enterprises import fields
from crm.enterprises.models import Enterprise, EnterpriseChange
from crm.enterprises.validation import normalise as normalise_file
from crm.enterprises.validation import validate as validate_file
from crm.founding import documents as founding_documents
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.sync import services as submissions


def move(ent: Enterprise, to_stage: str, user, *, expected_from: str, occurred_on: date | None = None,
         note: str = "", evidence: dict | None = None, union: dict | None = None,
         source: str = "founding", record: tuple | None = None, sent=None,
         documents: tuple | None = None) -> FoundingEvent:
    """Move `ent` from `expected_from` to `to_stage`.

    Skips forward, moves back, side states and leaving a side state need a note. Reaching
    上级已批复 / 已取得工会法人资格 updates the union fields of the file (recorded per field).
    `record` = (kind, id) of the visit or meeting that made the move, kept on the event.
    `sent`: the move form's key and content (crm.sync): a re-send makes no second move.
    `documents`: (form key, kind, title) of the documents uploaded with the form, attached to the
    move in its transaction.
    """
    if to_stage not in stages.BY_KEY:
        raise ServiceError("未知的建会进度", "to_stage")
    note = (note or "").strip()
    occurred_on = occurred_on or local_today()
    if occurred_on > local_today():
        raise ServiceError("日期不能晚于今天", "occurred_on")
    if to_stage == expected_from:
        raise ServiceError("目标阶段与当前阶段相同", "to_stage")
    kind = stages.move_kind(expected_from, to_stage)
    if kind in stages.NOTE_REQUIRED and not note:
        reasons = {"skip": "跨阶段推进需要填写说明", "back": "回退需要填写原因",
                   "side": "转入该状态需要填写原因", "resume": "恢复推进需要填写说明"}
        raise ServiceError(reasons[kind], "note")
    target = stages.get(to_stage)
    clean_evidence = {}
    for ev in target.evidence:
        value = (evidence or {}).get(ev.name)
        if value in (None, ""):
            continue
        if ev.kind == "int" and (not isinstance(value, int) or value < 0):
            raise ServiceError("请填写不小于 0 的整数", f"ev_{ev.name}")
        clean_evidence[ev.name] = value.isoformat() if hasattr(value, "isoformat") else value
    if (evidence or {}).get("text"):
        clean_evidence["text"] = str(evidence["text"]).strip()
    union_values = {}
    if union and to_stage in stages.UNION_FIELD_STAGES:
        union_values = normalise_file({k: v for k, v in union.items() if k in fields.UNION_FIELDS})
        if to_stage == "registered" and not union_values.get("union_credit_code") \
                and not ent.union_credit_code:
            raise ServiceError("取得工会法人资格需要填写工会统一社会信用代码", "union_credit_code")
        validate_file({"name": ent.name, **union_values})

    # Evidence the union fields already collect (the 81 code at 已取得工会法人资格) is kept once.
    for ev in target.evidence:
        if ev.name in union_values and union_values[ev.name]:
            clean_evidence[ev.name] = union_values[ev.name]

    def build():
        current = Enterprise.get_by_id(ent.id)
        if current.stage != expected_from:
            raise ServiceError(f"该企业的建会进度已被他人改为“{stages.label(current.stage)}”，"
                               "请刷新页面后再操作", "to_stage")
        # The 建档 event is dated when the file was made, not when its stage was reached: not a bound.
        last = (FoundingEvent.select(FoundingEvent.occurred_on)
                .where(FoundingEvent.enterprise == ent.id, FoundingEvent.kind != "initial")
                .order_by(FoundingEvent.occurred_on.desc()).first())
        if last and occurred_on < last.occurred_on:
            raise ServiceError(f"日期不能早于上一次进度变更（{last.occurred_on.isoformat()}）", "occurred_on")
        changes = {"stage": (current.stage, to_stage)}
        for name, new in union_values.items():
            old = getattr(current, name)
            if new is None and old is None or new == old or (new == "" and old in ("", None)):
                continue
            changes[name] = (old, new)
        version = current.version + (1 if len(changes) > 1 else 0)
        values = {name: new for name, (old, new) in changes.items()}
        moved = (Enterprise.update(**values, stage_changed_at=utcnow(), stage_since=occurred_on,
                                   version=version,
                                   updated_at=utcnow(), updated_by=user)
                 .where(Enterprise.id == ent.id, Enterprise.stage == expected_from).execute())
        if moved != 1:  # another move committed between our read and our write
            raise ServiceError("该企业的建会进度刚被他人修改，请刷新页面后再操作", "to_stage")
        event = FoundingEvent.create(enterprise=ent.id, from_stage=expected_from, to_stage=to_stage,
                                     kind=kind, occurred_on=occurred_on, user=user, note=note,
                                     evidence=json.dumps(clean_evidence, ensure_ascii=False),
                                     record_kind=record[0] if record else "",
                                     record_id=record[1] if record else None)
        for name, (old, new) in changes.items():
            EnterpriseChange.create(enterprise=ent.id, user=user, version=version, field=name,
                                    old_value=fields.display(name, old),
                                    new_value=fields.display(name, new), source=source)
        if documents:
            founding_documents.attach(event, documents[0], user, *documents[1:])
        # The month's moves; the union's founding date; whether it counts as 已建会 in every year.
        founded = stages.stages_with_status("founded")
        dates = [occurred_on] + [d for d in changes.get("union_founded_on", ()) if d]
        signals.firms_changed.send("founding", ids=[ent.id], days=dates,
                                   all_years=(expected_from in founded) != (to_stage in founded))
        signals.stage_changed.send("founding", enterprise_id=ent.id, from_stage=expected_from,
                                   to_stage=to_stage, user=user, event=event)
        return event

    return submissions.once_or_plain("stage", sent, user, build,
                                     lambda found: FoundingEvent.get_by_id(found.record_id))

from peewee import JOIN

from crm.auth.models import User
from crm.founding import documents, stages
from crm.founding.models import FoundingEvent


def events(ent):
    return list(FoundingEvent.select(FoundingEvent, User).join(User, JOIN.LEFT_OUTER)
                .where(FoundingEvent.enterprise == ent.id)
                .order_by(FoundingEvent.occurred_on, FoundingEvent.id))


def track(ent):
    """The whole track for the file page: each stage reached or not, and every move in order."""
    evts = events(ent)
    reached = {}
    for e in evts:
        reached.setdefault(e.to_stage, e)
    current = stages.get(ent.stage)
    top = current.order if not current.is_side else max(
        [stages.get(e.to_stage).order for e in evts if not stages.get(e.to_stage).is_side] or [0])
    steps = []
    for s in stages.STAGES:
        state = "current" if s.key == ent.stage else ("reached" if s.order <= top else "")
        steps.append({"stage": s, "state": state, "event": reached.get(s.key)})
    return {"steps": steps, "events": list(reversed(evts)), "current": current,
            "documents": documents.of_events(e.id for e in evts),
            "status": stages.UNION_STATUS.label(stages.union_status(ent.stage)),
            "next": next((s for s in stages.STAGES if not current.is_side and s.order == current.order + 1), None)}

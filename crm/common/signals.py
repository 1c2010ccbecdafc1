"""What a write tells the features that keep something in step with it. Each signal is sent by
the feature that owns the change, inside the transaction that makes it, and handled there too
(blinker calls the receivers in the sender's thread), so nothing below depends on the features
that care. Receivers are connected when their module is imported: crm.web.wiring lists them.

- firms_changed(ids, days=(), all_years=False, since=None): enterprise files whose figures may
  have changed (their unit, state, stage, a record they take part in).
- firm_moved(ent_id, unit_id): a file moved to another org unit; what is scoped by its unit
  follows it. With `ent_ids` instead of `ent_id`: several files moved to that unit at once (a bulk
  move sends a few hundred ids at a time).
- firm_archived(ent_id, user, reason): a file archived (`ent_ids`: several at once).
- record_changing(record) / record_changed(record): a field-work record about to be edited,
  archived or restored / just created, edited, archived or restored; the sender is its kind key.
- visit_logged(visit, followup_id, user): a visit saved from a follow-up's 记录走访.
- need_resolved(need_id, user, resolution): a need marked resolved.
- signups_changed(ids): the sign-ups of these records changed (confirmed, rejected, checked in,
  cancelled): their owner recounts what they count. The sender is the kind key (meeting, activity).
- record_created(record, user): a field-work record just created (once, not on a re-send); the
  sender is its kind key (visit, meeting, training, activity, need, point).
- followups_assigned(followups, previous, user): these follow-ups were just given to their
  assignee (created, or reassigned away from `previous`: {follow-up id: the former assignee's id}).
- visit_commented(visit, comment, user): a supervisor's 点评 on a visit.
- followups_overdue(followups): these open follow-ups have just passed their due date (each told
  of once per due date, by the sweep in crm.followups.overdue, inside the transaction that marks them).
- stage_changed(enterprise_id, from_stage, to_stage, user, event): a file moved on its founding track.
- member_joined(member, signup): a new member recorded by their first sign-up.

Notifications and webhooks listen to the last six (crm.notifications, crm.webhooks).
- batch(): the writes inside report their effects once, at the end (batch_began, batch_ended).
"""
from contextlib import contextmanager

from blinker import Namespace

_events = Namespace()

firms_changed = _events.signal("firms-changed")
firm_moved = _events.signal("firm-moved")
firm_archived = _events.signal("firm-archived")
record_changing = _events.signal("record-changing")
record_changed = _events.signal("record-changed")
visit_logged = _events.signal("visit-logged")
need_resolved = _events.signal("need-resolved")
signups_changed = _events.signal("signups-changed")
record_created = _events.signal("record-created")
followups_assigned = _events.signal("followups-assigned")
visit_commented = _events.signal("visit-commented")
followups_overdue = _events.signal("followups-overdue")
stage_changed = _events.signal("stage-changed")
member_joined = _events.signal("member-joined")
batch_began = _events.signal("batch-began")
batch_ended = _events.signal("batch-ended")


@contextmanager
def batch():
    """Receivers may collect what the writes inside report and act once, when the block ends
    without an error (still inside the caller's transaction)."""
    batch_began.send(None)
    ok = False
    try:
        yield
        ok = True
    finally:
        batch_ended.send(None, ok=ok)

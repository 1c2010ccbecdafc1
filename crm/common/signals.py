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

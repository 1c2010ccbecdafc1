"""Reads of sign-ups for the pages of the records they are for (the record is in scope already)."""
from crm.members.models import Member, SignUp

FIELDS = {"meeting": SignUp.meeting, "point": SignUp.point, "activity": SignUp.activity}


def signups_of(kind: str, record) -> list:
    """A record's sign-ups with their members (phones masked), newest first."""
    return list(SignUp.select(SignUp, Member).join(Member).where(FIELDS[kind] == record.id)
                .order_by(SignUp.signed_at.desc(), SignUp.id.desc()))


def counted_of(kind: str, record) -> int:
    return SignUp.select().where(FIELDS[kind] == record.id, SignUp.counted == True).count()  # noqa: E712

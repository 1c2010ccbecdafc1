"""The enterprises linked to a record through a link table (TrainingEnterprise.training,
ActivityEnterprise.activity …): one set of reads and writes for every such table.
`owner` is the link table's field that points at the record."""
from crm.enterprises.models import Enterprise
from crm.permissions import visible_enterprises


def linked_ids(owner, record_id) -> list[int]:
    link = owner.model
    return [r.enterprise_id for r in link.select(link.enterprise).where(owner == record_id).order_by(link.id)]


def set_links(owner, record_id, ent_ids):
    """Replace the record's links (inside the caller's transaction)."""
    link = owner.model
    link.delete().where(owner == record_id).execute()
    for ent_id in ent_ids:
        link.create(**{owner.name: record_id, "enterprise": ent_id})


def linked_enterprises(owner, record_ids, user) -> dict:
    """{record id: [Enterprise(id, name)]} of the linked enterprises the user may see, in one
    query (names of files outside the user's scope are not shown)."""
    link = owner.model
    ids = list(record_ids)
    out = {}
    if not ids:
        return out
    rows = (link.select(owner, Enterprise.id, Enterprise.name)
            .join(Enterprise, on=(link.enterprise == Enterprise.id))
            .where(owner.in_(ids), visible_enterprises(user)).order_by(link.id))
    for row in rows:
        out.setdefault(getattr(row, owner.name + "_id"), []).append(row.enterprise)
    return out

"""The enterprise list as a ledger: exactly the filtered files, in the columns the importer reads
(an exported file imports back with nothing new and nothing changed)."""
from crm.db import stream_batches
from crm.enterprises import fields
from crm.enterprises.models import Contact
from crm.imports.columns import EXPORTED
from crm.org.models import OrgUnit

COLUMNS = [(c.header, c.width) for c in EXPORTED]


def rows(query, batch=500):
    """Rows for the ledger, streamed in batches (the primary contact looked up per batch)."""
    units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    for chunk in stream_batches(query, batch):
        yield from _rows(chunk, units)


def _rows(chunk, units):
    contacts = {}
    for c in (Contact.select().where(Contact.enterprise.in_([e.id for e in chunk]), Contact.archived == False)  # noqa: E712
              .order_by(Contact.is_primary.desc(), Contact.id)):
        contacts.setdefault(c.enterprise_id, c)
    for ent in chunk:
        contact = contacts.get(ent.id)
        out = []
        for column in EXPORTED:
            key = column.key
            if key == "org_unit":
                out.append(units.get(ent.org_unit_id, ""))
            elif key == "contact_name":
                out.append(contact.name if contact else "")
            elif key == "contact_phone":
                out.append(contact.phone if contact else "")
            elif key in ("union_founded_on", "union_term_end"):
                out.append(getattr(ent, key))
            elif key in ("employees", "new_form_workers", "member_count"):
                out.append(getattr(ent, key))
            else:
                out.append(fields.display(key, getattr(ent, key)))
        yield out

"""The enterprise list as a ledger: exactly the filtered files, in the columns the importer reads
(an exported file imports back with nothing new and nothing changed). A long one runs as a job
(企业台账导出, run_job)."""
from pathlib import Path
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

from crm.audit import services as audit
from crm.db import stream_batches
from crm.enterprises import fields, queries
from crm.enterprises.models import Contact, Enterprise
from crm.fieldwork import ledger
from crm.jobs import services as job_services
from crm.jobs.registry import JobKind, Result, register
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


# ---- as a job (an export above EXPORT_INLINE_ROWS files) ---------------------------------------

def ordered(user, args):
    """The files the list shows for `args`, in the ledger's order."""
    return queries.filtered(user, args).order_by(Enterprise.org_unit, Enterprise.id)


def run_job(params, user, progress):
    """企业台账导出 as a job: params {"query": the list's query string}."""
    args = queries.ListArgs.from_request(MultiDict(parse_qsl(params.get("query", ""), keep_blank_values=True)))
    query = ordered(user, args)
    total = max(1, query.count())
    progress(1, f"共 {total} 个档案，正在导出")

    def counted():
        for i, row in enumerate(rows(query), start=1):
            if i % 1000 == 0:
                progress(min(95, i * 95 // total), f"已导出 {i} / {total} 个档案")
            yield row

    path = job_services.scratch_path(".xlsx")
    try:
        count = ledger.save_workbook(path, [ledger.Sheet(TITLE, COLUMNS, counted())])
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    query_text = params.get("query", "")[:500]
    audit.record("export", user=user, detail=f"{TITLE}：{count} 行（后台任务）" + (f"；筛选 {query_text}" if query_text else ""))
    progress(99, f"已导出 {count} 个档案")
    return Result(ledger.dated_name(TITLE), ledger.XLSX_TYPE, path=path)


TITLE = "企业台账"
register(JobKind("enterprise_export", "企业台账导出", run_job))

"""台账: the filters every field-work list shares, paging, and the .xlsx export of exactly the
filtered rows (Chinese headers, column widths, frozen header row; one sheet or several)."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from tempfile import SpooledTemporaryFile
from urllib.parse import quote

from flask import Response, current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from crm.audit import services as audit
from crm.common.numbers import arg_id, arg_page
from crm.common.text import safe_text
from crm.common.timeutil import local_today, to_local
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids


def read_date_range(args, out):
    """`date_from` and `date_to` of a list's query string onto `out`, each message in
    `out.errors` beside its field."""
    for name in ("date_from", "date_to"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(out, name, date.fromisoformat(raw))
            except ValueError:
                out.errors[name] = "日期格式应为 2026-05-01"
    if out.date_from and out.date_to and out.date_from > out.date_to:
        out.errors["date_to"] = "结束日期不能早于开始日期"


@dataclass
class LedgerArgs:
    """Filters read from the URL (a filtered ledger can be bookmarked and exported as shown)."""
    org: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""
    staff: int | None = None
    group: str = ""
    status: str = ""
    archived: str = ""  # "" current records, "1" archived only
    page: int = 1
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_request(cls, args, kinds=None, groups=None, statuses=None):
        out = cls()
        for name in ("org", "staff"):
            setattr(out, name, arg_id(args, name))
        read_date_range(args, out)
        out.kind = args.get("kind", "") if kinds is not None and args.get("kind") in kinds else ""
        out.group = args.get("group", "") if groups is not None and args.get("group") in groups else ""
        out.status = args.get("status", "") if statuses is not None and args.get("status") in statuses else ""
        out.archived = "1" if args.get("archived") == "1" else ""
        out.page = arg_page(args)
        return out

    def unit_ids(self, listed=False):
        """A subquery of the chosen unit and everything below it (None: no unit filter);
        `listed`: their ids as a list (see permissions.scoped)."""
        if not self.org:
            return None
        unit = OrgUnit.get_or_none(OrgUnit.id == self.org)
        if unit is None:
            return None
        ids = subtree_ids(unit)
        return [i for (i,) in ids.tuples()] if listed else ids

    def dates(self, query, column):
        if self.date_from and "date_from" not in self.errors:
            query = query.where(column >= self.date_from)
        if self.date_to and "date_to" not in self.errors and "date_from" not in self.errors:
            query = query.where(column <= self.date_to)
        return query

    def filter(self, query, model, day):
        """What every kind's ledger filters by: archived or not, the unit and those below it, the
        dates (of `day`), who recorded it; newest first."""
        query = query.where(model.archived == (self.archived == "1"))
        units = self.unit_ids()
        if units is not None:
            query = query.where(model.org_unit.in_(units))
        query = self.dates(query, day)
        if self.staff:
            query = query.where(model.created_by == self.staff)
        return query.order_by(day.desc(), model.id.desc())


@dataclass
class LedgerPage:
    rows: list
    page: int
    has_next: bool


def page_of(query, page: int, rows_of=None) -> LedgerPage:
    """One page without counting the whole table: fetch one row more than shown. The page's ids
    are picked first by a narrow query (the offset walks index entries, not whole records), then
    its rows are read by id, in that order. `rows_of(select)`: the query reading rows with what
    they display (e.g. joined), when `query` itself is kept narrow so that picking the ids needs no
    join; given a plain select of the model, the rows are then read by id alone (without the
    filters, which could steer SQLite to the filter's index instead of the ids)."""
    size = current_app.config["PAGE_SIZE"]
    model = query.model
    ids = [i for (i,) in query.select(model.id).offset((page - 1) * size).limit(size + 1).tuples()]
    if not ids:
        return LedgerPage([], page, False)
    rows = rows_of(model.select()) if rows_of is not None else query
    by_id = {row.id: row for row in rows.where(model.id.in_(ids[:size])).order_by()}
    return LedgerPage([by_id[i] for i in ids[:size]], page, len(ids) > size)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xlsx_value(value):
    """A value as a workbook may hold it: text without what XML cannot carry (control
    characters, lone surrogates, non-characters), whatever is already in the database. Every
    .xlsx the app writes passes its values through here."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", safe_text(value, multiline=True))
    return value


def _text_cell(ws, value, number_format=None):
    """User text that looks like a formula is written as text, never as a live formula; what XML
    cannot hold is dropped. A date or time is a date of the workbook (a datetime: local and
    naive, see local_dt), shown as `number_format` when the column has one."""
    value = xlsx_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, (date, datetime)):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = number_format or ("yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd")
        return cell
    return value


def local_dt(dt: datetime | None) -> datetime | None:
    """A stored (UTC) time as a workbook holds it: Beijing time, without a zone."""
    local = to_local(dt)
    return local.replace(tzinfo=None) if local else None


MONTH = 'yyyy"年"m"月"'  # a column of months: the first day of each, shown as 2026年5月


def _audited(title: str, count: int):
    """An export of personal data is in the audit log: who, which list, its filter, how many rows."""
    from flask import request
    query = request.query_string.decode("utf-8", "replace")[:500]
    audit.record("export", detail=f"{title}：{count} 行" + (f"；筛选 {query}" if query else ""))


@dataclass
class Sheet:
    """One sheet of a workbook. columns: [(header, width)] or [(header, width, number format)];
    rows: an iterable of lists."""
    title: str
    columns: list
    rows: object


_SHEET_NAME = re.compile(r"[\\/*?:\[\]]")
_FILE_NAME = re.compile(r'[\\/:*?"<>|]')


def _write_sheet(wb, sheet: Sheet, taken: set) -> int:
    name = _SHEET_NAME.sub("", xlsx_value(sheet.title))[:31] or "Sheet"
    while name in taken:
        name = name[:28] + f"({len(taken)})"
    taken.add(name)
    ws = wb.create_sheet(name)
    ws.freeze_panes = "A2"
    formats = []
    for i, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column[1]
        formats.append(column[2] if len(column) > 2 else None)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header = []
    for column in sheet.columns:
        cell = WriteOnlyCell(ws, value=xlsx_value(column[0]))
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    count = 0
    for row in sheet.rows:
        ws.append([_text_cell(ws, v, formats[i] if i < len(formats) else None) for i, v in enumerate(row)])
        count += 1
    return count


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dated_name(filename: str) -> str:
    """企业台账 → 企业台账-2026-05-01.xlsx (what an export's file is called)."""
    return f"{_FILE_NAME.sub('', xlsx_value(filename))}-{local_today().isoformat()}.xlsx"


def save_workbook(target, sheets) -> int:
    """Write the sheets, each streamed through a write-only workbook (a long ledger is not held
    as cells in memory), into `target` (a path or a file): how many rows."""
    wb = Workbook(write_only=True)
    taken, count = set(), 0
    for sheet in sheets:
        count += _write_sheet(wb, sheet, taken)
    wb.save(target)
    return count


def longer_than(query, limit: int) -> bool:
    """Whether the query has more than `limit` rows, counting at most limit + 1 of them (an export
    above EXPORT_INLINE_ROWS runs as a job)."""
    model = query.model
    return query.select(model.id).order_by().limit(limit + 1).count() > limit


def workbook_response(filename: str, title: str, sheets) -> Response:
    """A workbook of one or more sheets (save_workbook); its file name says what and when
    (企业台账-2026-05-01.xlsx); the export is in the audit log under `title`."""
    out = SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    count = save_workbook(out, sheets)
    _audited(title, count)
    out.seek(0)
    name = dated_name(filename)
    response = Response(out.read(), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = f"attachment; filename=ledger.xlsx; filename*=UTF-8''{quote(name)}"
    return response


def xlsx_response(filename: str, title: str, columns, rows) -> Response:
    """One sheet: columns [(header, width)] (or with a number format), rows an iterable of lists."""
    return workbook_response(filename, title, [Sheet(title, columns, rows)])

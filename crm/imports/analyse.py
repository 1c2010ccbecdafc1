"""One ledger row → a file's fields, and what importing it would do: 新建 / 更新 / 无变化 /
重复 / 错误 / 空行, with the reason in Chinese. Rows are read and matched in chunks (a few queries per
500 rows), so a 100,000-row file is never held in memory."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from crm.common.choices import Choices
from crm.common.errors import ServiceError
from crm.common.text import clean, nfkc, normalise_name
from crm.enterprises import creditcode, similar, validation
from crm.enterprises.models import Enterprise
from crm.enterprises.validation import normalise_phone, phone_problem
from crm.founding import stages
from crm.imports.columns import BY_KEY
from crm.imports.reader import Formula, rows as file_rows
from crm.org.models import OrgUnit
from crm.permissions import in_scope
from crm.common.text import safe_text
from crm.common.numbers import INT_MAX

OUTCOMES = Choices(("new", "新建"), ("update", "更新"), ("unchanged", "无变化"), ("duplicate", "重复"),
                   ("error", "错误"), ("empty", "空行"))
CHUNK = 500
# The new rows of a file checked for names close to a file's (similar.find_many); the rows after them
# only for the same name once suffixes are set aside (the close check costs a few milliseconds a row).
SIMILAR_ROWS = 5000
TRUE = {"是", "√", "✓", "✔", "y", "yes", "true", "1", "有", "已建", "已建会", "是的", "对"}
FALSE = {"否", "×", "✗", "✘", "x", "n", "no", "false", "0", "无", "未建", "未建会", "没有", "不是"}
_DATE_PATTERNS = (re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?$"), re.compile(r"^(\d{4})(\d{2})(\d{2})$"))
FILE_FIELDS = ("name", "credit_code", "org_unit", "address", "area", "industry", "kind", "category", "employees",
               "new_form_workers", "legal_rep", "is_key", "party_org", "status", "union_name", "union_founded_on",
               "union_chair", "member_count", "union_credit_code", "union_term_end", "union_form", "tags", "notes")


class CellError(Exception):
    pass


@dataclass
class Options:
    user: object
    default_org: OrgUnit | None = None
    on_duplicate: str = "update"  # or "skip": a firm already on file is left as it is
    similar: bool = False  # flag new rows whose name resembles a file's or an earlier row's (the preview)


@dataclass
class RowResult:
    row: int
    outcome: str
    reason: str = ""
    name: str = ""
    data: dict = field(default_factory=dict)
    contact: dict | None = None
    stage: str | None = None
    existing_id: int | None = None
    changes: dict = field(default_factory=dict)
    raw: list = field(default_factory=list)
    similar: list = field(default_factory=list)  # files it may duplicate, as the user may see them
    similar_row: int | None = None  # an earlier row of the file with the same name once set aside

    @property
    def outcome_label(self):
        return OUTCOMES.label(self.outcome)


# ---- cell values ------------------------------------------------------------------------------

def notes_text(value) -> str:
    return safe_text("" if value is None else str(value), multiline=True).strip()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = safe_text(value, multiline=True)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    return clean(str(value))


def parse_int(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("不是整数")
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return int(value)
        raise CellError("不是整数")
    text = nfkc(str(value)).replace(",", "").replace("，", "").strip()
    text = re.sub(r"(人|名|个)$", "", text)
    if re.fullmatch(r"\d{1,18}(\.0+)?", text):
        return int(text.split(".")[0])  # not through float: 19 digits and more are no number anyone keeps
    if re.fullmatch(r"\d+(\.0+)?", text):
        raise CellError("数字太大")
    raise CellError("不是整数")


def parse_bool(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = nfkc(str(value)).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CellError("应填“是”或“否”")


def parse_date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError("不是有效日期")
    if isinstance(value, (int, float)) and 10_000 <= value < 80_000:  # an Excel serial day (1927–2119)
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = nfkc(str(value)).strip().replace(" ", "")
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise CellError("不是有效日期（可写 2023-05-01、2023/5/1 或 2023年5月）")


ALIASES = {"有限公司": "llc", "有限责任": "llc", "股份公司": "joint_stock", "个体": "individual",
           "个体户": "individual", "国企": "state", "外企": "foreign", "外资": "foreign",
           "是": "established", "有": "established", "已建": "established", "否": "none", "无": "none", "未建": "none"}


def parse_choice(value, choices):
    """A choice by its key or label ("C", "制造业", "C 制造业"); a partial name only when it
    points to one choice; a few words people use (有限公司, 个体户, 是/否 for 党组织)."""
    text = clean(nfkc(_text(value)))
    if not text:
        return ""
    lowered = text.lower()
    keys = {k for k, _ in choices}
    for key, label in choices:
        if lowered in (key.lower(), nfkc(label).lower()) or text.startswith(key + " "):
            return key
    if ALIASES.get(text) in keys:
        return ALIASES[text]
    partial = [key for key, label in choices if nfkc(label) in text or (len(text) >= 2 and text in nfkc(label))]
    if len(partial) == 1:
        return partial[0]
    raise CellError("不是可选的值" if not partial else "可能是几个选项中的任何一个，请写完整")


class Units:
    """Org units by name, short name (瀛海镇 for 瀛海镇总工会) or code."""

    def __init__(self):
        self.by = {}
        for unit in OrgUnit.select():
            for key in (unit.name, unit.code, unit.name.replace("总工会", ""), unit.name.replace("工会", "")):
                self.by.setdefault(nfkc(key).replace(" ", "").lower(), unit)
        self.by_id = {u.id: u for u in self.by.values()}

    def find(self, value):
        return self.by.get(nfkc(_text(value)).replace(" ", "").lower())


# ---- one row ----------------------------------------------------------------------------------

def parse(cells, mapping, headers, units: Units, options: Options):
    """(data, contact, stage, problems) of one row; problems are "列名：说明" strings."""
    data, contact, stage, union_yes, problems = {}, {}, None, None, []
    for index, key in mapping.items():
        value = cells[index] if index < len(cells) else None
        column = BY_KEY[key]
        header = headers[index] if index < len(headers) and headers[index] else column.header
        if isinstance(value, Formula):
            problems.append(f"“{header}”是公式（{value.text[:30]}），请在 Excel/WPS 中“粘贴为数值”后再导入")
            continue
        try:
            if column.kind == "int":
                data[key] = parse_int(value)
            elif column.kind == "bool":
                data[key] = parse_bool(value)
            elif column.kind == "date":
                data[key] = parse_date(value)
            elif column.kind == "choice":
                data[key] = parse_choice(value, column.choices)
            elif column.kind == "code":
                data[key] = creditcode.normalise(_text(value))
            elif column.kind == "unit":
                text = _text(value)
                if text:
                    unit = units.find(text)
                    if unit is None:
                        raise CellError(f"找不到“{text}”这个单位")
                    data[key] = unit
            elif column.kind == "stage":
                text = _text(value)
                if text:
                    stage = parse_choice(text, stages.ALL_STAGES)
            elif column.kind == "yesno_union":
                union_yes = parse_bool(value)
            elif key == "contact_name":
                contact["name"] = _text(value)
            elif key == "contact_phone":
                phone = normalise_phone(_text(value))
                problem = phone_problem(phone)
                if problem:
                    raise CellError(problem)
                contact["phone"] = phone
            else:
                data[key] = _text(value) if key != "notes" else notes_text(value)
        except CellError as exc:
            shown = _text(value) if not isinstance(value, Formula) else value.text
            problems.append(f"“{header}”{('“' + shown[:30] + '”') if shown else ''}{exc}")
    if stage is None and union_yes is not None:
        stage = ("registered" if data.get("union_credit_code") else "approved") if union_yes else None
    if contact.get("phone") and not contact.get("name"):
        contact["name"] = "企业联系人"  # a ledger with a phone column but no name column
    return data, (contact if contact.get("name") else None), stage, problems


def _unit_of(data, options):
    return data.get("org_unit") or options.default_org


class Analyser:
    """Reads a file and classifies each row; remembers what earlier rows of the file claimed."""

    def __init__(self, path, header_row, headers, mapping, options: Options):
        self.path, self.header_row, self.headers, self.mapping = path, header_row, headers, mapping
        self.options = options
        self.units = Units()
        self.seen_codes, self.seen_names, self.seen_firms = {}, {}, {}
        self.seen_cores = {}
        self.close_left = SIMILAR_ROWS
        self.close_until = None  # the last row checked for close names, once the rest are not

    def __iter__(self):
        chunk = []
        for number, cells in file_rows(self.path):
            if number <= self.header_row:
                continue
            chunk.append((number, cells))
            if len(chunk) >= CHUNK:
                yield from self._chunk(chunk)
                chunk = []
        yield from self._chunk(chunk)

    def _chunk(self, chunk):
        parsed = []
        for number, cells in chunk:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                parsed.append((number, cells, None))
                continue
            parsed.append((number, cells, parse(cells, self.mapping, self.headers, self.units, self.options)))
        codes = {p[2][0].get("credit_code") for p in parsed if p[2] and p[2][0].get("credit_code")}
        by_code = {e.credit_code: e for e in Enterprise.select().where(Enterprise.credit_code.in_(list(codes)))} \
            if codes else {}
        names = {normalise_name(p[2][0].get("name")) for p in parsed if p[2] and p[2][0].get("name")}
        by_name = {}
        if names:
            for e in Enterprise.select().where(Enterprise.name_norm.in_(list(names))).order_by(Enterprise.id):
                if e.archived and (e.org_unit_id, e.name_norm) in by_name:
                    continue
                by_name.setdefault((e.org_unit_id, e.name_norm), []).append(e)
        resembles = self._resembling(parsed, by_code, by_name) if self.options.similar else {}
        for number, cells, result in parsed:
            if result is None:
                yield RowResult(number, "empty", "空行，已跳过", raw=cells)
                continue
            out = self._classify(number, cells, *result, by_code, by_name)
            if self.options.similar and out.outcome == "new":
                self._flag(out, resembles.get(number, []))
            yield out

    def _resembling(self, parsed, by_code, by_name) -> dict:
        """{row: [similar.Match]} for the rows that no credit code or same name in their unit ties to a
        file (those become new files): one search for the chunk."""
        rows, names = [], []
        for number, _, result in parsed:
            data = result[0] if result else None
            if not data or not data.get("name") or result[3] or data.get("credit_code") in by_code:
                continue
            unit = _unit_of(data, self.options)
            if unit is not None and (unit.id, normalise_name(data["name"])) in by_name:
                continue
            rows.append(number)
            names.append(data["name"])
        if not names:
            return {}
        close = self.close_left > 0
        self.close_left -= len(names)
        if not close and self.close_until is None:
            self.close_until = rows[0] - 1
        return dict(zip(rows, similar.find_many(names, limit=3, close=close)))

    def _flag(self, out, matches):
        """A new row whose name resembles a file (anywhere in the district: outside the user's scope
        by name and unit only) or an earlier row of the file: imported as new, flagged in the preview."""
        out.similar = similar.shown(matches, self.options.user)
        key = similar.core(out.name)
        if key:
            out.similar_row = self.seen_cores.get(key)
            self.seen_cores.setdefault(key, out.row)
        notes = []
        if out.similar:
            notes.append("可能与已有档案重复：" + "、".join(f"{m['name']}（{m['unit']}）" for m in out.similar))
        if out.similar_row:
            notes.append(f"可能与第 {out.similar_row} 行是同一家企业")
        out.reason = "；".join(notes)

    def _classify(self, number, cells, data, contact, stage, problems, by_code, by_name):
        name = data.get("name") or ""
        out = RowResult(number, "error", name=name, raw=cells, contact=contact, stage=stage)
        if problems:
            out.reason = "；".join(problems)
            return out
        if not name:
            out.reason = "企业名称为空"
            return out
        explicit_unit = data.get("org_unit") is not None  # a blank cell never moves a file
        unit = _unit_of(data, self.options)
        if unit is None:
            out.reason = "没有填写所属工会，导入时也没有选择默认单位"
            return out
        if not in_scope(self.options.user, unit):
            out.reason = f"所属工会“{unit.name}”不在您的管辖范围内"
            return out
        data["org_unit"] = unit
        problem = too_long(data, contact)
        if problem:
            out.reason = problem
            return out
        try:
            validation.validate(validation.normalise({k: v for k, v in data.items() if k != "org_unit"}))
        except ServiceError as exc:
            label = BY_KEY[exc.field].header if exc.field in BY_KEY else ""
            out.reason = f"{label}：{exc}" if label and label not in str(exc) else str(exc)
            return out
        code, key = data.get("credit_code") or "", (unit.id, normalise_name(name))
        if code and code in self.seen_codes:
            out.outcome, out.reason = "duplicate", f"与第 {self.seen_codes[code]} 行重复（信用代码相同）"
            return out
        if key in self.seen_names:
            out.outcome, out.reason = "duplicate", f"与第 {self.seen_names[key]} 行重复（同一单位下企业名称相同）"
            return out
        existing = by_code.get(code) if code else None
        if existing is None:
            candidates = by_name.get(key, [])
            if len(candidates) > 1:
                out.reason = f"本单位有 {len(candidates)} 家同名企业的档案，请填写统一社会信用代码以区分"
                return out
            candidate = candidates[0] if candidates else None
            if candidate is not None and code and candidate.credit_code and candidate.credit_code != code:
                out.reason = f"本单位已有同名企业的档案，但信用代码不同（{candidate.credit_code}）"
                return out
            existing = candidate
        if existing is not None:
            if not in_scope(self.options.user, self.units.by_id.get(existing.org_unit_id) or existing.org_unit):
                out.reason = "该信用代码已登记在您管辖范围以外的档案中"
                return out
            if existing.archived:
                out.reason = "该企业的档案已归档，请先恢复档案再导入"
                return out
            if existing.id in self.seen_firms:
                out.outcome = "duplicate"
                out.reason = f"与第 {self.seen_firms[existing.id]} 行是同一家企业"
                return out
        # Only a row that will be imported claims its code, name and firm (an error row does not).
        if code:
            self.seen_codes[code] = number
        self.seen_names[key] = number
        out.data = data
        if existing is None:
            out.outcome = "new"
            return out
        self.seen_firms[existing.id] = number
        out.existing_id = existing.id
        out.changes = changes_of(existing, data if explicit_unit else {k: v for k, v in data.items() if k != "org_unit"})
        notes = []
        if stage and stage != existing.stage:
            notes.append(f"建会进度不同（表中为“{stages.label(stage)}”），未修改，请在建会进度中操作")
        if self.options.on_duplicate == "skip":
            out.outcome = "duplicate"
            out.reason = "已有档案，按选择跳过" + (f"（有 {len(out.changes)} 项不同）" if out.changes else "")
        elif out.changes:
            out.outcome = "update"
            out.reason = "更新：" + "、".join(BY_KEY[k].header for k in out.changes)
        else:
            out.outcome, out.reason = "unchanged", "已有档案，内容相同"
        if notes:
            out.reason += "；" + "；".join(notes)
        return out


CONTACT_LIMITS = {"name": ("联系人", 64), "phone": ("联系电话", 32)}


def too_long(data, contact) -> str | None:
    """A value longer than the file keeps, or a number too large: the row's error (the preview
    then says what the commit would otherwise fail on)."""
    for key, value in data.items():
        field_ = Enterprise._meta.fields.get(key)
        limit = getattr(field_, "max_length", None)
        if limit and isinstance(value, str) and len(value) > limit:
            return f"“{BY_KEY[key].header}”超过 {limit} 个字"
        if isinstance(value, int) and not isinstance(value, bool) and value > INT_MAX:
            return f"“{BY_KEY[key].header}”数字太大"
    for key, (label, limit) in CONTACT_LIMITS.items():
        if contact and len(contact.get(key) or "") > limit:
            return f"“{label}”超过 {limit} 个字"
    return None


def changes_of(existing: Enterprise, data: dict) -> dict:
    """The fields the row would change. A blank cell changes nothing (imports never erase)."""
    normalised = validation.normalise({k: v for k, v in data.items() if k != "org_unit"})
    out = {}
    for key in FILE_FIELDS:
        if key == "org_unit":
            unit = data.get("org_unit")
            if unit is not None and unit.id != existing.org_unit_id:
                out[key] = unit.id
            continue
        if key not in data:
            continue
        new = normalised.get(key, data[key])
        if new is None or new == "":
            continue
        old = getattr(existing, key)
        if key == "credit_code":
            old = old or ""
        if key == "notes":
            old = notes_text(old)
        if old != new:
            out[key] = new
    return out

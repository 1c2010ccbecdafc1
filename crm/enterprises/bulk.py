"""批量操作 on the enterprise list: many files moved to another unit, marked or unmarked 区级重点企业,
given or relieved of a tag, or archived, in one go, and the last such action undone.

Three steps, each its own function: `prepare` resolves the selection (ticked files, or every file
matching the list's filters, in the user's scope, not archived), checks the parameters and keeps
a BulkAction in state "preview" with each selected file's version; `apply` writes it in one
transaction, refused as a whole if a file left the user's scope or changed since the preview (its
version), with one history line per file, each file's version bumped and the signals a single
edit, move or archive sends; `undo` puts back each file's previous value, refused as a whole if a
file changed since. The SQL is batched: no statement names more than CHUNK ids or INSERT_ROWS
history rows, well within SQLite's limit on bound variables, whatever the selection's size."""
import json
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode

from werkzeug.datastructures import MultiDict

from crm.common import channel, signals
from crm.common.choices import Choices
from crm.common.errors import ServiceError
from crm.common.numbers import id_list
from crm.common.text import clean, nfkc
from crm.common.timeutil import utcnow
from crm.db import db, is_postgres
from crm.enterprises import fields, services
from crm.enterprises.models import BulkAction, Contact, Enterprise, EnterpriseChange
from crm.enterprises.queries import ListArgs, filtered
from crm.org.models import OrgUnit
from crm.permissions import can, scoped, visible_org_units

ACTIONS = Choices(("move", "变更所属单位"), ("key", "标记为区级重点企业"), ("unkey", "取消区级重点企业"),
                  ("tag_add", "添加标签"), ("tag_remove", "移除标签"), ("archive", "归档"))
FIELD = {"move": "org_unit", "key": "is_key", "unkey": "is_key", "tag_add": "tags", "tag_remove": "tags",
         "archive": "archived"}
MAX_FILES = 10_000  # one action's selection at most (the list counts up to as many)
CHUNK = 500  # ids named in one statement
INSERT_ROWS = 100  # history rows in one INSERT (9 values each)
TAG_MAX = 50
TAGS_MAX = 300  # Enterprise.tags
SAMPLE = 20  # files the preview names
NAMED = 10  # files a refusal names
PICK_AGAIN = 100  # ticked files a preview keeps to choose another action for (its link's length)


class OutOfScope(ServiceError):
    """A selected file is not in the user's scope (or does not exist)."""


def _chunks(items, size=CHUNK):
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _names(ids, limit=NAMED) -> str:
    ids = list(ids)
    found = dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids[:limit])).tuples())
    names = "、".join(found.get(i, f"#{i}") for i in ids[:limit])
    return names + (f" 等 {len(ids)} 家" if len(ids) > limit else "")


def source_label(source: str) -> str:
    """A history line's source as shown (批量操作：变更所属单位 / 撤销批量操作：变更所属单位), or ""."""
    kind, _, rest = (source or "").partition(":")
    if kind not in ("bulk", "undo"):
        return ""
    action = rest.partition(":")[0]
    return ("批量操作：" if kind == "bulk" else "撤销批量操作：") + ACTIONS.label(action, action)


# ---- the parameters --------------------------------------------------------------------------

def _target_unit(user, unit_id):
    unit_id = id_list([unit_id])
    units = {u.id: u for u in visible_org_units(user)}
    if not unit_id:
        raise ServiceError("请选择目标单位", "unit")
    if unit_id[0] not in units:
        raise ServiceError("目标单位不在您的管辖范围内（或已停用），批量操作未执行", "unit")
    return units[unit_id[0]]


def check_params(user, action: str, raw: dict) -> dict:
    """The action's parameters, cleaned; a ServiceError (with its field) when one is missing or
    not allowed."""
    if action not in ACTIONS:
        raise ServiceError("请选择要执行的批量操作")
    if action == "move":
        return {"unit": _target_unit(user, raw.get("unit")).id}
    if action in ("tag_add", "tag_remove"):
        tag = clean(nfkc(raw.get("tag") or ""))
        if not tag:
            raise ServiceError("请填写标签", "tag")
        if any(mark in tag for mark in ",，、"):
            raise ServiceError("一次填写一个标签（不含逗号、顿号）", "tag")
        if len(tag) > TAG_MAX:
            raise ServiceError(f"标签不能超过 {TAG_MAX} 个字", "tag")
        return {"tag": tag}
    if action == "archive":
        reason = clean(raw.get("reason") or "")
        if not reason:
            raise ServiceError("请填写归档原因", "reason")
        if len(reason) > 200:
            raise ServiceError("归档原因不能超过 200 个字", "reason")
        return {"reason": reason}
    return {}


def _tags(text):
    return [t for t in (text or "").split(",") if t]


def new_value(action: str, params: dict, current):
    """What the action makes of a file's current value of its field."""
    if action == "move":
        return params["unit"]
    if action in ("key", "unkey"):
        return action == "key"
    if action == "tag_add":
        return ",".join(dict.fromkeys(_tags(current) + [params["tag"]]))
    if action == "tag_remove":
        return ",".join(t for t in _tags(current) if t != params["tag"])
    return True  # archive


def tag_counts(ids, limit=30) -> list[tuple[str, int]]:
    """The tags the selected files have, the most common first (what 移除标签 can take)."""
    counts = {}
    for chunk in _chunks(ids):
        for (text,) in Enterprise.select(Enterprise.tags).where(Enterprise.id.in_(chunk), Enterprise.tags != "").tuples():
            for tag in _tags(text):
                counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _column(action):
    return getattr(Enterprise, FIELD[action])


# ---- the selection ---------------------------------------------------------------------------

LIST_KEYS = {f.name for f in dataclass_fields(ListArgs)} - {"errors", "page"}


def list_query(source) -> str:
    """The list's filters (from its query arguments, or a query string), encoded afresh: what the
    bulk pages carry along and link back to, nothing else."""
    if isinstance(source, str):
        source = MultiDict(parse_qs(source[:2000]))
    return urlencode([(k, v) for k, values in source.lists() if k in LIST_KEYS for v in values])


def _list_args(filters: str) -> ListArgs:
    args = ListArgs.from_request(MultiDict(parse_qs(list_query(filters or ""))))
    args.archived = ""  # archived files take no part
    return args


def selection(user, ids=None, filters: str = "", everything: bool = False) -> list[int]:
    """The selected files' ids: `ids` (each must be in the user's scope and not archived) or, with
    `everything`, every file in scope matching the list's filters (`filters`, its query string)."""
    if everything:
        query = filtered(user, _list_args(filters)).select(Enterprise.id).order_by(Enterprise.id)
        found = [i for (i,) in query.limit(MAX_FILES + 1).tuples()]
        if not found:
            raise ServiceError("没有符合筛选条件的在档企业")
    else:
        found = id_list(ids)
        if not found:
            raise ServiceError("请先在企业档案列表中勾选企业")
    if len(found) > MAX_FILES:
        raise ServiceError(f"一次最多批量操作 {MAX_FILES:,} 家企业，请缩小筛选范围")
    if not everything:
        seen, archived = set(), []
        for chunk in _chunks(found):
            for i, is_archived in (scoped(Enterprise, user).select(Enterprise.id, Enterprise.archived)
                                   .where(Enterprise.id.in_(chunk)).tuples()):
                seen.add(i)
                if is_archived:
                    archived.append(i)
        missing = [i for i in found if i not in seen]
        if missing:
            raise OutOfScope(f"所选企业中有 {len(missing)} 家不在您的管辖范围内或已不存在，批量操作未执行")
        if archived:
            raise ServiceError(f"所选企业中有已归档的档案：{_names(archived)}。已归档的档案不参与批量操作")
    return found


# ---- prepare and preview ---------------------------------------------------------------------

def prepare(user, action: str, raw_params: dict, ids=None, filters: str = "", everything: bool = False,
            back: str = "") -> BulkAction:
    """A BulkAction to preview: the selection with each file's version and whether it changes."""
    if not can("bulk_edit_firms", user):
        raise ServiceError("您没有批量操作的权限")
    params = check_params(user, action, raw_params)
    chosen = selection(user, ids, filters, everything)
    column = _column(action)
    rows, changing, too_long = [], 0, []
    for chunk in _chunks(chosen):
        for i, version, value in (Enterprise.select(Enterprise.id, Enterprise.version, column)
                                  .where(Enterprise.id.in_(chunk)).tuples()):
            new = new_value(action, params, value)
            changes = new != value
            if changes and action == "tag_add" and len(new) > TAGS_MAX:
                too_long.append(i)
            changing += changes
            rows.append([i, version, int(changes)])
    if too_long:
        raise ServiceError(f"以下企业的标签加上“{params['tag']}”后超过 {TAGS_MAX} 个字：{_names(too_long)}", "tag")
    order = {i: n for n, i in enumerate(chosen)}
    rows.sort(key=lambda r: order[r[0]])
    params["back"] = list_query(back or "")
    params["selection"] = {"everything": True, "filters": list_query(filters or "")} if everything else \
        {"ids": chosen[:PICK_AGAIN]} if len(chosen) <= PICK_AGAIN else {}
    return BulkAction.create(user=user, action=action, params=json.dumps(params, ensure_ascii=False),
                             selected=len(rows), changing=changing,
                             versions=json.dumps(rows, separators=(",", ":")))


def params_of(action: BulkAction) -> dict:
    return json.loads(action.params or "{}")


def again_args(action: BulkAction) -> dict | None:
    """The query arguments that open the same selection for another action (None: too many
    ticked files to carry in a link)."""
    params = params_of(action)
    chosen = params.get("selection") or {}
    if chosen.get("everything"):
        return {"everything": "1", "filters": chosen.get("filters", "")}
    if chosen.get("ids"):
        return {"ent": chosen["ids"], "filters": params.get("back", "")}
    return None


def _shown(field, value, units, blank="（无）"):
    if field == "org_unit":
        return units.get(value, "")
    if field == "archived":
        return "已归档" if value else "在档"
    return fields.display(field, value) or blank


@dataclass
class Preview:
    action: BulkAction
    label: str  # 变更所属单位
    what: str  # what changes, in words: 所属单位变更为 乙镇服务站
    changing: list  # [(file, now, after)] a sample
    unchanged: list  # [(file, now)] a sample
    unchanged_count: int


def _what(action, params, units):
    if action == "move":
        return f"所属单位变更为 {units.get(params['unit'], '')}"
    if action in ("tag_add", "tag_remove"):
        return f"{ACTIONS.label(action)}“{params['tag']}”"
    if action == "archive":
        return f"归档，原因：{params['reason']}"
    return ACTIONS.label(action)


def preview(action: BulkAction) -> Preview:
    """What the action's page shows: a sample of the files that change (before → after: their
    values now while it is a preview, those it found once applied) and of those where nothing
    would change. Reads only the sample's rows."""
    params = params_of(action)
    rows = json.loads(action.versions or "[]")
    if action.state == "preview":
        change_ids, before = [r[0] for r in rows if r[2]][:SAMPLE], {}
    else:
        files = json.loads(action.files or "[]")[:SAMPLE]
        change_ids, before = [f[0] for f in files], {f[0]: f[1] for f in files}
    changed = {f[0] for f in json.loads(action.files or "[]")} if action.state != "preview" else None
    same_ids = [r[0] for r in rows if (not r[2] if changed is None else r[0] not in changed)][:NAMED]
    field, column = FIELD[action.action], _column(action.action)
    firms = {e.id: e for e in Enterprise.select(Enterprise.id, Enterprise.name, Enterprise.org_unit, column)
             .where(Enterprise.id.in_(change_ids + same_ids))}
    units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    changing = []
    for i in change_ids:
        if i in firms:
            now = before[i] if i in before else fields.stored(firms[i], field)
            changing.append((firms[i], _shown(field, now, units),
                             _shown(field, new_value(action.action, params, now), units)))
    unchanged = [(firms[i], _shown(field, fields.stored(firms[i], field), units)) for i in same_ids if i in firms]
    return Preview(action, ACTIONS.label(action.action), _what(action.action, params, units), changing, unchanged,
                   action.selected - action.changing)


# ---- apply and undo --------------------------------------------------------------------------

def _locked(action_id):
    query = BulkAction.select().where(BulkAction.id == action_id)
    if is_postgres():
        query = query.for_update()
    return query.get()


def _current(user, ids, column):
    """{id: (version, archived, value)} of the files in the user's scope, their rows locked (in id
    order) on PostgreSQL as a single edit's UPDATE would lock them."""
    out = {}
    for chunk in _chunks(sorted(ids)):
        query = (scoped(Enterprise, user).select(Enterprise.id, Enterprise.version, Enterprise.archived, column)
                 .where(Enterprise.id.in_(chunk)))
        if is_postgres():
            query = query.order_by(Enterprise.id).for_update("FOR NO KEY UPDATE")
        for i, version, archived, value in query.tuples():
            out[i] = (version, archived, value)
    return out


def _history(rows):
    """rows: (file id, user id, at, version, field, old, new, source), INSERT_ROWS to a statement
    (written out directly: building 10,000 rows through the query builder costs more than the
    writing), each marked with the channel it came through (crm.common.channel)."""
    names = ("enterprise", "user", "at", "version", "field", "old_value", "new_value", "source", "via")
    via = channel.current()
    columns = ", ".join(f'"{EnterpriseChange._meta.fields[n].column_name}"' for n in names)
    at = EnterpriseChange.at.db_value
    mark = "(" + ", ".join([db.param] * len(names)) + ")"
    for part in _chunks(rows, INSERT_ROWS):
        params = [v for row in part for v in (row[0], row[1], at(row[2]), *row[3:], via)]
        db.execute_sql(f'INSERT INTO "{EnterpriseChange._meta.table_name}" ({columns}) VALUES '
                       + ", ".join([mark] * len(part)), params)


def _write(action: str, changes: dict, user, now, versions: dict, history_source: str, reason: str = ""):
    """Write `changes` {file id: (old, new)} of the action's field: each file's version one up,
    one history line each, and the signals a single edit sends (for up to CHUNK files at a time)."""
    field = FIELD[action]
    units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    stamp = {"version": Enterprise.version + 1, "updated_at": now, "updated_by": user}
    groups = {}
    for i, (_old, new) in changes.items():
        groups.setdefault(new if field != "tags" else None, []).append(i)
    if field == "tags":
        _write_tags(changes, user, now)
    else:
        for new, ids in groups.items():
            values = {field: new} if field != "archived" else \
                {"archived": new, "archived_at": now if new else None, "archived_by": user if new else None}
            for chunk in _chunks(sorted(ids)):
                done = Enterprise.update(**values, **stamp).where(Enterprise.id.in_(chunk)).execute()
                if done != len(chunk):
                    raise ServiceError("有企业档案在批量操作中途被删除或修改，批量操作未执行")
    rows = []
    for i, (old, new) in changes.items():
        if field == "archived":
            shown_old, shown_new = ("已归档", "恢复在档") if old else ("在档", "已归档：" + reason)
        else:
            shown_old, shown_new = _shown(field, old, units, ""), _shown(field, new, units, "")
        rows.append((i, user.id, now, versions[i] + 1, field, shown_old, shown_new, history_source))
    _history(rows)
    for new, ids in groups.items():
        for chunk in _chunks(sorted(ids)):
            if field == "org_unit":  # the files' visits and follow-ups follow them, as in a single move
                signals.firm_moved.send("enterprise", ent_ids=chunk, unit_id=new)
            if field == "archived" and new:  # what is open for an archived file ends with it
                signals.firm_archived.send("enterprise", ent_ids=chunk, user=user, reason=reason)
    if field in services.COUNTED or field == "archived":
        signals.firms_changed.send("enterprise", ids=list(changes), all_years=True)


def _write_tags(changes: dict, user, now):
    """Tags are part of a file's search text: each file's row gets its own new tags and text,
    INSERT_ROWS rows to a statement (UPDATE … FROM a list of values, on both backends)."""
    table, p = Enterprise._meta.table_name, db.param
    at = Enterprise.updated_at.db_value(now)
    for chunk in _chunks(sorted(changes)):
        contacts = {}
        for c in (Contact.select().where(Contact.enterprise.in_(chunk), Contact.archived == False)  # noqa: E712
                  .order_by(Contact.id)):
            contacts.setdefault(c.enterprise_id, []).append(c)
        rows = []
        for row in Enterprise.select().where(Enterprise.id.in_(chunk)).dicts():  # (whole rows: what the text takes)
            ent = SimpleNamespace(**{**row, "tags": changes[row["id"]][1]})
            rows.append((ent.id, ent.tags, services._search_text(ent, contacts.get(ent.id, []))))
        for part in _chunks(rows, INSERT_ROWS):
            values = ", ".join([f"({p}, {p}, {p})"] * len(part))
            db.execute_sql(f'WITH v(id, tags, text) AS (VALUES {values}) '
                           f'UPDATE "{table}" SET "tags" = v.tags, "search_text" = v.text, '
                           f'"version" = "{table}"."version" + 1, "updated_at" = {p}, "updated_by_id" = {p} '
                           f'FROM v WHERE "{table}"."id" = v.id',
                           [x for r in part for x in r] + [at, user.id])


def apply(action_id: int, user) -> BulkAction:
    """Write a previewed action, in one transaction, as its author."""
    with db.atomic(), signals.batch():
        action = _locked(action_id)
        if action.user_id != user.id:
            raise ServiceError("只有发起这次批量操作的人可以确认")
        if action.state != "preview":
            raise ServiceError("这次批量操作已经确认过了")
        params = params_of(action)
        if action.action == "move":
            _target_unit(user, params["unit"])
        rows = json.loads(action.versions or "[]")
        expected = {i: v for i, v, _ in rows}
        current = _current(user, expected, _column(action.action))
        missing = [i for i in expected if i not in current]
        if missing:
            raise OutOfScope(f"所选企业中有 {len(missing)} 家已不在您的管辖范围内：{_names(missing)}。批量操作未执行")
        stale = [i for i, v in expected.items() if current[i][0] != v or current[i][1]]
        if stale:
            raise ServiceError(f"预览之后有 {len(stale)} 家企业的档案已被修改：{_names(stale)}。"
                               "批量操作未执行，请重新预览后再确认")
        changes = {}
        for i, (_version, _archived, value) in current.items():
            new = new_value(action.action, params, value)
            if new != value:
                changes[i] = (value, new)
        now = utcnow()
        versions = {i: current[i][0] for i in changes}
        _write(action.action, changes, user, now, versions, f"bulk:{action.action}:{action.id}",
               params.get("reason", ""))
        files = [[i, old, versions[i] + 1] for i, (old, _new) in sorted(changes.items())]
        updated = (BulkAction.update(state="done", applied_at=now, changing=len(files),
                                     files=json.dumps(files, ensure_ascii=False, separators=(",", ":")))
                   .where(BulkAction.id == action.id, BulkAction.state == "preview").execute())
        if updated != 1:
            raise ServiceError("这次批量操作已经确认过了")
    return BulkAction.get_by_id(action.id)


def undoable(action: BulkAction, user) -> bool:
    """Its author's last bulk action still in force, and the user its author or an admin."""
    if action.state != "done" or not (action.user_id == user.id or can("manage_system", user)):
        return False
    return not BulkAction.select().where(BulkAction.user == action.user_id, BulkAction.state == "done",
                                         BulkAction.id > action.id).exists()


def last_undoable(user) -> BulkAction | None:
    """The user's last bulk action, when it can still be undone (for the list's link)."""
    last = (BulkAction.select().where(BulkAction.user == user.id, BulkAction.state == "done")
            .order_by(BulkAction.id.desc()).first())
    return last if last is not None and undoable(last, user) else None


def undo(action_id: int, user) -> BulkAction:
    """Put back each file's value from before the action, in one transaction; refused (nothing
    written) when a file has changed since the action."""
    with db.atomic(), signals.batch():
        action = _locked(action_id)
        if action.state == "undone":
            raise ServiceError("这次批量操作已经撤销过了")
        if action.state != "done":
            raise ServiceError("这次批量操作尚未确认，无需撤销")
        if not undoable(action, user):
            raise ServiceError("只能撤销自己最近一次的批量操作（管理员可撤销任何人最近一次的批量操作）")
        files = json.loads(action.files or "[]")
        after = {i: v for i, _old, v in files}
        current = _current(user, after, _column(action.action))
        changed = [i for i, v in after.items() if i not in current or current[i][0] != v]
        if changed:
            raise ServiceError(f"撤销未执行：批量操作之后有 {len(changed)} 家企业的档案又有变更：{_names(changed)}。"
                               "请到这些档案中逐一修改")
        changes = {i: (current[i][2], old) for i, old, _v in files}
        _write(action.action, changes, user, utcnow(), {i: current[i][0] for i in changes},
               f"undo:{action.action}:{action.id}")
        BulkAction.update(state="undone", undone_at=utcnow(), undone_by=user).where(BulkAction.id == action.id).execute()
    return BulkAction.get_by_id(action.id)


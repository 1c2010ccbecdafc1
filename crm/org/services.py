"""Org-unit tree writes: add, rename, move, deactivate. Paths are kept for subtree queries."""
import csv
from pathlib import Path

from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.text import safe_text
from crm.db import db
from crm.org.models import ORG_KINDS, OrgUnit
from crm.resources import DATA_DIR

DAXING_CSV = DATA_DIR / "daxing_org_units.csv"


def _segment(unit_id: int) -> str:
    return f"{unit_id:06d}/"  # zero-padded so ORDER BY path is tree order


def create_unit(name: str, kind: str, parent: OrgUnit | None, code: str | None = None) -> OrgUnit:
    name = safe_text(name or "").strip()  # also from the command line and the demo, not only forms
    if not name:
        raise ServiceError("请填写单位名称", "name")
    if kind not in ORG_KINDS:
        raise ServiceError("未知的单位类型", "kind")
    if parent is None and OrgUnit.select().where(OrgUnit.parent.is_null()).exists():
        raise ServiceError("只能有一个顶级单位（区总工会）", "parent")
    with db.atomic():
        if OrgUnit.select().where(OrgUnit.name == name).exists():
            raise ServiceError(f"单位名称已存在：{name}", "name")
        code = (code or "").strip() or None
        if code and OrgUnit.select().where(OrgUnit.code == code).exists():
            raise ServiceError(f"单位代码已存在：{code}", "code")
        unit = OrgUnit.create(name=name, kind=kind, parent=parent, code=code or f"tmp-{name}",
                              path="", depth=(parent.depth + 1) if parent else 0)
        unit.path = (parent.path if parent else "/") + _segment(unit.id)
        if not code:
            unit.code = f"unit{unit.id}"
        unit.save()
    return unit


def rename_unit(unit: OrgUnit, name: str) -> OrgUnit:
    name = safe_text(name or "").strip()  # also from the command line and the demo, not only forms
    if not name:
        raise ServiceError("请填写单位名称", "name")
    with db.atomic():
        if OrgUnit.select().where(OrgUnit.name == name, OrgUnit.id != unit.id).exists():
            raise ServiceError(f"单位名称已存在：{name}", "name")
        OrgUnit.update(name=name).where(OrgUnit.id == unit.id).execute()
    return OrgUnit.get_by_id(unit.id)


def move_unit(unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Re-hang a unit (and its subtree) under another parent; paths of the subtree follow."""
    if unit.parent_id is None:
        raise ServiceError("不能移动顶级单位", "parent")
    if new_parent.path.startswith(unit.path):
        raise ServiceError("不能移动到自身或下级单位之下", "parent")
    with db.atomic():
        old_prefix = unit.path
        new_prefix = new_parent.path + _segment(unit.id)
        depth_shift = new_parent.depth + 1 - unit.depth
        for sub in OrgUnit.select().where(OrgUnit.path.startswith(old_prefix)):
            OrgUnit.update(path=new_prefix + sub.path[len(old_prefix):],
                           depth=sub.depth + depth_shift).where(OrgUnit.id == sub.id).execute()
        OrgUnit.update(parent=new_parent).where(OrgUnit.id == unit.id).execute()
    return OrgUnit.get_by_id(unit.id)


def set_active(unit: OrgUnit, active: bool) -> OrgUnit:
    """Deactivating hides a unit from pickers; its files and users stay where they are.
    A unit whose subtree still has active units or users cannot be deactivated."""
    if not active:
        if unit.parent_id is None:
            raise ServiceError("不能停用顶级单位", "active")
        if OrgUnit.select().where(OrgUnit.parent == unit.id, OrgUnit.active == True).exists():  # noqa: E712
            raise ServiceError("请先停用或移走其下级单位", "active")
        if User.select().where(User.org_unit == unit.id, User.active == True).exists():  # noqa: E712
            raise ServiceError("该单位还有在用的账号，请先调整这些用户的所属单位或停用账号", "active")
    elif unit.parent_id and not OrgUnit.get_by_id(unit.parent_id).active:
        raise ServiceError("上级单位已停用，请先恢复上级单位", "active")
    with db.atomic():
        OrgUnit.update(active=active).where(OrgUnit.id == unit.id).execute()
    return OrgUnit.get_by_id(unit.id)


def load_tree_csv(path: Path = DAXING_CSV) -> int:
    """Load code,name,kind,parent_code rows (parents first). Existing codes are kept. Returns
    the number of units created."""
    created = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with db.atomic():
        by_code = {u.code: u for u in OrgUnit.select()}
        for row in rows:
            if row["code"] in by_code:
                continue
            parent = by_code.get(row["parent_code"]) if row["parent_code"] else None
            if row["parent_code"] and parent is None:
                raise ServiceError(f"上级单位代码不存在：{row['parent_code']}")
            by_code[row["code"]] = create_unit(row["name"], row["kind"], parent, code=row["code"])
            created += 1
    return created


def find_unit(name_or_code: str) -> OrgUnit | None:
    key = (name_or_code or "").strip()
    return OrgUnit.get_or_none((OrgUnit.name == key) | (OrgUnit.code == key))

"""使用帮助: a page per role (templates/help/<role>.html), each a list of sections shared between
the pages (templates/help/sections/<key>.html), so one text is written once. A user opens their
own role's page; the others are a tap away (?role=…). A form's 帮助 link points to its section
(templates/_macros/help.html)."""
from dataclasses import dataclass
from types import SimpleNamespace

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.auth.models import ROLES, is_admin_role
from crm.common.timeutil import local_today
from crm.compliance.rules import RULES as COMPLIANCE_RULES
from crm.compliance.services import Settings
from crm.permissions import RULES, can

bp = Blueprint("help", __name__, url_prefix="/help")

# Every section once: its anchor and its heading.
SECTIONS = {
    "start": "开始使用",
    "tasks": "我的任务",
    "notifications": "通知",
    "assign": "分派跟进任务",
    "visit": "记录走访",
    "offline": "没有网络时：待同步",
    "meeting": "记录沟通会（从固定点位开始）",
    "signup": "扫码登记入会",
    "training": "记录培训",
    "activity": "记录服务活动",
    "need": "企业需求意见",
    "enterprise": "新建和编辑企业档案",
    "find": "查找、打印和导出",
    "import": "导入企业台账",
    "dashboard": "工作概况",
    "grid": "看懂“双沟通”达标",
    "report": "月度通报",
    "users": "用户和角色",
    "org-units": "组织架构",
    "two-factor": "两步验证",
    "rules": "考核规则和系统设置",
    "audit": "审计日志",
    "backup": "备份和恢复",
}

FIELD_WORK = ("visit", "offline", "meeting", "signup", "training", "activity", "need", "enterprise")
PAGE_SECTIONS = {
    "staff": ("start", "visit", "offline", "meeting", "signup", "tasks", "notifications", "training", "activity",
              "need", "enterprise", "find", "grid", "report"),
    "supervisor": ("start", "assign", "tasks", "notifications", *FIELD_WORK, "find", "import", "dashboard", "grid",
                   "report"),
    "viewer": ("start", "find", "dashboard", "grid", "report"),
    "admin": ("start", "users", "org-units", "two-factor", "rules", "audit", "backup", "import", "assign",
              "notifications", "dashboard", "grid", "report", "find", *FIELD_WORK),
}


@dataclass(frozen=True)
class Section:
    key: str
    title: str


@dataclass(frozen=True)
class Page:
    """The help of one role: what that role may do decides what its sections say (the named rules
    of crm.permissions, asked about a stand-in user of the role, not the reader)."""
    key: str
    label: str
    sections: tuple
    rules: frozenset

    def can(self, rule: str) -> bool:
        return rule in self.rules


def _rules_of(role: str) -> frozenset:
    stand_in = SimpleNamespace(is_authenticated=True, active=True, role=role, is_admin=is_admin_role(role))
    return frozenset(name for name, rule in RULES.items() if rule(stand_in))


PAGES = {key: Page(key, ROLES.label(key), tuple(Section(s, SECTIONS[s]) for s in PAGE_SECTIONS[key]),
                   _rules_of(key))
         for key, _ in ROLES}


def own_page(user=None) -> Page:
    """The page of the reader's role, told by the named rules."""
    if can("manage_system", user):
        return PAGES["admin"]
    if can("read_only", user):
        return PAGES["viewer"]
    if can("lead_team", user):
        return PAGES["supervisor"]
    return PAGES["staff"]


def targets(user):
    """The 双沟通 targets in force this month for the reader's unit (a unit inherits its parents'
    settings; the district's are the defaults): [(rule, enabled, text)]."""
    first = local_today().replace(day=1)
    settings = Settings()
    unit = user.org_unit
    out = []
    for rule in COMPLIANCE_RULES:
        eff = settings.of(rule.key, unit if unit.parent_id else None, first)
        out.append((rule, eff.enabled, rule.target_text(eff.target)))
    return out


@bp.app_template_global("help_section")
def help_section(key: str) -> Section:
    """A section by its anchor (the forms' 帮助 links); an unknown one is an error, not a dead link."""
    return Section(key, SECTIONS[key])


@bp.route("/")
@login_required
def index():
    mine = own_page()
    page = PAGES.get(request.args.get("role", ""), mine)
    return render_template(f"help/{page.key}.html", page=page, mine=mine, pages=list(PAGES.values()),
                           targets=targets(current_user), today=local_today())

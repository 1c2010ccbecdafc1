"""Demo follow-ups: what a supervisor's board and a cadre's 我的任务 look like on an ordinary
Tuesday — a few overdue, some due today and this week, some later, some done this month by
logging the visit, one cancelled — made through the same services as the pages."""
import random
from datetime import date, timedelta

from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_RESOLVED
from crm.followups import services, suggestions
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.visits.models import Visit
from crm.visits.services import create_visit

# (supervisor, staff, unit code); staff without a supervisor login give themselves tasks.
TEAMS = (("kouyj", "liuxq", "gaomidian_station"), ("zhangh", "lijw", "yinghai"))
SELF = (("yanrb", "panggezhuang"), ("daimz", "xihongmen"))
DONE_TEXT = ("见到企业负责人，已讲解建会流程", "职工代表同意下月召开职工大会", "送达换届工作提示，工会主席已签收",
             "回访了解用工情况，企业无新增需求")


class _Tasks:
    def __init__(self, rng: random.Random, today: date, units: dict, users: dict):
        self.rng, self.today, self.units, self.users = rng, today, units, users
        self.n = 0
        self.used = set()

    def key(self):
        self.n += 1
        return f"demo-followup-{self.n:08d}"

    def firms(self, code, where):
        unit = self.units[code]
        query = (Enterprise.select().join(OrgUnit)
                 .where(OrgUnit.path.startswith(unit.path), Enterprise.archived == False, where)  # noqa: E712
                 .order_by(Enterprise.id))
        return [e for e in query if e.id not in self.used]

    def give(self, actor, assignee, ent, title, due, created, priority="medium", rule="", need=None, detail=""):
        task = services.Task(title=title, enterprise=ent, detail=detail, rule=rule,
                             source="need" if need else ("suggestion" if rule else "manual"),
                             source_need_id=need.id if need else None,
                             org_unit_id=need.org_unit_id if need else None)
        fu, _ = services.create(actor, task, assignee, due, priority, self.key(), today=created)
        if ent is not None:
            self.used.add(ent.id)
        return fu

    def team(self, boss, staff, code):
        rng, today = self.rng, self.today
        boss, staff = self.users[boss], self.users[staff]
        never = self.firms(code, Enterprise.last_contact_on.is_null())
        stalled = self.firms(code, Enterprise.stage.in_(suggestions.STALL_STAGES[1:]))
        known = self.firms(code, Enterprise.last_contact_on.is_null(False))
        plan = [  # (title, days from today it is due, days ago it was given, priority, rule)
            ("首次走访宣传", -4, 12, "high", "never"),
            ("首次走访宣传", -1, 8, "medium", "never"),
            ("首次走访宣传", 0, 6, "medium", "never"),
            ("推进建会：了解职工意愿", 2, 5, "high", "stalled"),
            ("推进建会：督促提交建会请示", 4, 3, "medium", "stalled"),
            ("回访", 12, 2, "low", ""),
            ("送建会材料", 20, 1, "medium", ""),
        ]
        for title, due_in, given, priority, rule in plan:
            pool = never if rule == "never" else stalled if rule == "stalled" else known
            pool = [e for e in pool if e.id not in self.used]
            if not pool:  # no such firm left: an ordinary 回访 instead
                title, rule, pool = "回访", "", [e for e in known if e.id not in self.used]
            if not pool:
                continue
            self.give(boss, staff, rng.choice(pool[:20]), title, today + timedelta(days=due_in),
                      today - timedelta(days=given), priority, rule)
        need = (Need.select().join(Enterprise).join(OrgUnit)
                .where(OrgUnit.path.startswith(self.units[code].path), Need.status != NEED_RESOLVED,
                       Need.archived == False, Need.enterprise.is_null(False))  # noqa: E712
                .order_by(Need.raised_on).first())
        if need is not None and need.enterprise_id not in self.used:
            self.give(boss, staff, need.enterprise, f"跟进需求：{need.category_label}", today + timedelta(days=3),
                      today - timedelta(days=1), "high", need=need, detail=need.detail)
        # Done this month: logged as visits, each completing its follow-up.
        start = max(today.replace(day=1), today - timedelta(days=20))
        for text in DONE_TEXT[:3]:
            pool = [e for e in known if e.id not in self.used]
            if not pool:
                break
            ent = rng.choice(pool[:30])
            given = start + timedelta(days=rng.randint(0, max(0, (today - start).days - 1)))
            fu = self.give(boss, staff, ent, "回访", min(today, given + timedelta(days=5)), given)
            visit_day = min(today, given + timedelta(days=rng.randint(0, 3)))
            data = {"visited_on": visit_day, "kind": "door", "purposes": ["founding"], "summary": text,
                    "contacts_met": "", "visitor_ids": [staff.id], "need_categories": [], "need_detail": "",
                    "outcome": "", "next_step": ""}
            create_visit(ent, data, staff, self.key(), {staff.id}, followup_id=fu.id)
        pool = [e for e in known if e.id not in self.used]
        if pool:
            fu = self.give(boss, staff, pool[0], "核实企业经营状态", today + timedelta(days=1), today - timedelta(days=4))
            services.set_status(boss, fu, "cancel", "企业已迁出本辖区，待更新档案")
        # The supervisor's one-tap task from a recent visit's next step.
        recent = (Visit.select().join(Enterprise).join(OrgUnit)
                  .where(OrgUnit.path.startswith(self.units[code].path), Visit.next_step != "",
                         Visit.archived == False, Visit.enterprise.not_in(list(self.used) or [0]))  # noqa: E712
                  .order_by(Visit.visited_on.desc()).first())
        if recent is not None:
            services.from_visit(boss, recent, today=today)
            self.used.add(recent.enterprise_id)

    def own(self, username, code):
        rng, today = self.rng, self.today
        me = self.users[username]
        known = self.firms(code, Enterprise.last_contact_on.is_null(False))
        for title, due_in, given in (("回访：确认沟通会参会人数", -2, 9), ("送会员互助服务卡", 1, 2), ("回访", 9, 1)):
            pool = [e for e in known if e.id not in self.used]
            if pool:
                self.give(me, me, rng.choice(pool[:20]), title, today + timedelta(days=due_in),
                          today - timedelta(days=given))


def add_followups(rng: random.Random, today: date, units: dict, users: dict):
    """Call inside load_demo's transaction, after the field work."""
    tasks = _Tasks(rng, today, units, users)
    for boss, staff, code in TEAMS:
        if code in units:
            tasks.team(boss, staff, code)
    for username, code in SELF:
        if code in units:
            tasks.own(username, code)

"""A year of field work for the demo, shaped like a real unit's year:

- 高米店 (its service station): 26 "双沟通" meetings this year, 292 couriers and riders joining,
  each signed up by the meeting's QR code and on the roster (some coming back to later meetings);
- 瀛海: a staff meeting every Thursday at 首航超市 or 环宇坊 with a bank issuing mutual-aid cards,
  two one-on-one enterprise meetings a month, 15 skills trainings given to enterprises, visits to
  the shops of 环宇坊, 瀛嘉汇 and 朗苑社区;
- 庞各庄: the fixed point 众美城MIMO公馆 with the party office, the Youth League and the Women's
  Federation;
- 西红门: a visit to every unionized enterprise each month, meetings at riders' waiting spots and
  morning briefings, two 暖心驿站 with battery-swap cabinets;
- the district's meeting on the third Thursday; the other units more or less on target, so the
  compliance grid shows a mix; and a visit behind every first contact on the founding tracks.

Everything goes through the services (so contact dates, founding moves and needs are what the
forms would have made). "This year" is the calendar year of today, or the previous one before
March (so a fresh demo always shows a year's worth).
"""
import random
from datetime import date, timedelta

from crm.activities.services import create_activity
from crm.compliance.calendar import third_thursday
from crm.demo.members import Roster
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_CATEGORIES
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.services import create_meeting, create_point
from crm.needs.models import Need
from crm.needs.services import update_need
from crm.org.models import OrgUnit
from crm.trainings.services import create_training
from crm.visits.services import create_visit

GAOMIDIAN_EVENTS = 26
GAOMIDIAN_NEW_MEMBERS = 292
YINGHAI_TRAININGS = 15

VISIT_TEXT = {
    "founding": ["上门宣传《工会法》和建会流程，企业负责人表示会认真考虑",
                 "与人事经理座谈，介绍建会的好处和筹备步骤，发放宣传折页",
                 "了解企业用工情况，动员企业依法组建工会"],
    "member_service": ["走访已建会企业，了解职工需求，介绍会员互助服务项目",
                       "与工会主席交流今年的职工活动安排，收集职工意见",
                       "送去会员服务卡办理指南，了解困难职工情况"],
    "policy": ["宣传新就业形态劳动者入会政策，发放维权口袋书", "讲解职工互助保障和普惠服务政策"],
    "survey": ["了解企业和职工对工会服务的需求", "调研职工培训需求"],
}
NEED_TEXT = {
    "legal": "职工咨询劳动合同续签和加班费计算", "training": "希望安排一次安全生产和职业技能培训",
    "hardship": "一名职工家属重病，家庭困难", "policy": "想了解小微企业建会和会费政策",
    "culture": "职工希望组织一次健步走或读书分享活动", "care": "一线骑手压力大，希望有心理疏导",
    "founding": "企业希望工会派人指导筹备组的组成", "other": "希望在园区设置职工休息点",
}
SHOP_AREAS = ("环宇坊", "瀛嘉汇", "朗苑社区")


def report_span(today: date) -> tuple[date, date]:
    year = today.year if today >= date(today.year, 3, 1) else today.year - 1
    return date(year, 1, 1), min(today, date(year, 12, 31))


def _months(start: date, end: date):
    day = start.replace(day=1)
    while day <= end:
        yield day.year, day.month
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` as `parts` positive-ish random integers that add up exactly."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    raw = [total * w / sum(weights) for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(parts), key=lambda i: raw[i] - out[i], reverse=True)[:total - sum(out)]:
        out[i] += 1
    return out


class _FieldWork:
    def __init__(self, rng, today, units, users):
        self.rng, self.today, self.units, self.users = rng, today, units, users
        self.n = 0
        self.start, self.end = report_span(today)
        self._filed = dict(FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on)
                           .where(FoundingEvent.kind == "initial").tuples())
        # The first contact on each founding track: no field work with a firm before it.
        self._first = {}
        for ent_id, day in (FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on)
                            .where(FoundingEvent.to_stage == "contacted", FoundingEvent.kind != "initial")
                            .order_by(FoundingEvent.occurred_on).tuples()):
            self._first.setdefault(ent_id, day)

    def key(self, kind):
        self.n += 1
        return f"demo-{kind}-{self.n:08d}"

    def user_of(self, code, role=None):
        """A demo login of the unit (staff first), else the admin."""
        unit = self.units[code]
        people = [u for u in self.users.values() if u.org_unit_id == unit.id and (role is None or u.role == role)]
        people = people or [u for u in self.users.values() if u.org_unit_id == unit.id]
        return people[0] if people else self.users["admin"]

    def days(self, weekday=None, every=7):
        """Days of the report span (on a weekday, every `every` days)."""
        day = self.start
        if weekday is not None:
            day += timedelta(days=(weekday - day.weekday()) % 7)
        while day <= self.end:
            yield day
            day += timedelta(days=every)

    def known_by(self, firms, day):
        """The firms that could take part on `day`: their file existed, their track's first
        contact (if it has one) is not later, and they are not still 未接触 (those are the
        never-contacted files every unit has, whatever the day the demo is loaded on). A firm first
        met at this record starts its track here."""
        return [f for f in firms if self._filed.get(f.id, day) <= day and self._first.get(f.id, day) <= day
                and f.stage != "not_contacted"]

    def met(self, ents, day):
        for ent in ents:
            self._first.setdefault(ent.id, day)

    def pick(self, firms, day, k):
        known = self.known_by(firms, day)
        return self.rng.sample(known, min(k, len(known)))

    def enterprises(self, code, where=None, subtree=True):
        unit = self.units[code]
        query = Enterprise.select().join(OrgUnit).where(Enterprise.archived == False)  # noqa: E712
        query = query.where(OrgUnit.path.startswith(unit.path)) if subtree else query.where(Enterprise.org_unit == unit.id)
        if where is not None:
            query = query.where(where)
        return list(query.order_by(Enterprise.id))

    # ---- records ---------------------------------------------------------------------------
    def visit(self, ent, day, user, purpose="founding", kind="door", needs=0.25):
        rng = self.rng
        day = max(day, self._filed.get(ent.id, day))  # not before the file was made
        categories = [rng.choice([c for c, _ in NEED_CATEGORIES])] if rng.random() < needs else []
        data = {"visited_on": day, "kind": kind, "purposes": [purpose],
                "summary": rng.choice(VISIT_TEXT.get(purpose, VISIT_TEXT["founding"])),
                "contacts_met": "", "visitor_ids": [user.id], "need_categories": categories,
                "need_notes": {c: NEED_TEXT[c] for c in categories},
                "outcome": rng.choice(["", "企业表示支持", "约定下次再来", "已留下联系方式"]),
                "next_step": rng.choice(["", "", "两周后回访", "送建会材料"])}
        if data["next_step"]:
            data["next_step_on"] = min(day + timedelta(days=14), self.today + timedelta(days=30))
        visit, _ = create_visit(ent, data, user, self.key("visit"), {user.id})
        self.met([ent], day)
        return visit

    def meeting(self, code, day, user, kind="staff", level="routine", fmt="face", point=None, venue="",
                groups=("courier", "rider"), new=None, attendees=None, cards=0, services=("leaflets",),
                partners=(), participants=(), title="", summary=None):
        rng = self.rng
        new = new or {}
        total_new = sum(new.values())
        attendees = attendees if attendees is not None else total_new + rng.randint(12, 40)
        data = {"kind": kind, "level": level, "format": fmt, "org_unit": self.units[code].id, "held_on": day,
                "title": title, "venue": venue, "point": point.id if point else None,
                "target_groups": list(groups), "attendees": max(attendees, total_new), "cards": cards,
                "new_members": new, "services": list(services), "partners": list(partners),
                "enterprise_ids": [e.id for e in participants],
                "summary": summary or ("在点位设摊，宣传入会政策，发放维权口袋书，现场办理入会" if kind == "staff"
                                       else "与企业负责人座谈，介绍建会流程，听取企业意见")}
        meeting, _ = create_meeting(data, user, self.key("meeting"))
        self.met(participants, day)
        return meeting

    def point(self, code, name, kind, schedule, groups, notes="", address=""):
        data = {"name": name, "kind": kind, "org_unit": self.units[code].id, "schedule": schedule,
                "target_groups": list(groups), "notes": notes, "address": address}
        point, _ = create_point(data, self.users["admin"], self.key("point"))
        return point

    # ---- the story ---------------------------------------------------------------------------
    def first_contacts(self):
        """A visit behind every first contact on the founding tracks (linked as its evidence)."""
        events = list(FoundingEvent.select().where(FoundingEvent.to_stage == "contacted",
                                                   FoundingEvent.kind != "initial").order_by(FoundingEvent.id))
        for event in events:
            ent = Enterprise.get_by_id(event.enterprise_id)
            user = event.user or self.users["admin"]
            visit = self.visit(ent, event.occurred_on, user, "founding",
                               kind=self.rng.choice(["door", "door", "door", "one_on_one"]), needs=0.15)
            FoundingEvent.update(record_kind="visit", record_id=visit.id).where(FoundingEvent.id == event.id).execute()

    def gaomidian(self):
        rng, code = self.rng, "gaomidian_station"
        user = self.user_of(code, "staff")
        spots = [self.point(code, "兴业大街外卖等餐点", "rider_spot", "每周二下午", ["rider"]),
                 self.point(code, "高米店北快递驿站", "express_station", "每周四上午", ["courier"]),
                 self.point(code, "康盛园社区", "community", "每月第一个周六", ["courier", "rider", "other"])]
        span = (self.end - self.start).days
        days = sorted({self.start + timedelta(days=int(i * span / GAOMIDIAN_EVENTS)) for i in range(GAOMIDIAN_EVENTS)})
        staff_days = [d for i, d in enumerate(days) if i % 5 != 2]  # one in five is an enterprise meeting
        members = _split(GAOMIDIAN_NEW_MEMBERS, len(staff_days), rng)
        firms = self.enterprises(code)
        roster = Roster(rng)
        for day in days:
            if day in staff_days:
                n = members[staff_days.index(day)]
                couriers = rng.randint(0, n)
                services = ["leaflets", rng.choice(["haircut", "health_check", "points", "legal"])]
                if day.month in (6, 7, 8):
                    services.append("cooling")
                point = rng.choice(spots)
                cards = rng.randint(0, n)
                # The ones who joined signed up by the meeting's QR code (the roster); paper forms
                # count the others there.
                meeting = self.meeting(code, day, user, kind="staff", level=rng.choice(["routine", "routine", "special"]),
                                       point=point, venue=point.name, new={}, attendees=rng.randint(8, 30),
                                       cards=cards, services=services, partners=["bank", "party"],
                                       title="快递小哥、外卖骑手入会专场" if rng.random() < 0.3 else "")
                roster.meeting(meeting, {"courier": couriers, "rider": n - couriers}, user, cards)
            else:
                self.meeting(code, day, user, kind="enterprise", fmt="collective", groups=(),
                             participants=self.pick(firms, day, 3), services=(), venue="服务站会议室")
        self.gaomidian_activities(code, user, spots, roster)

    def gaomidian_activities(self, code, user, spots, roster):
        """Activities published with sign-ups: one held (check-ins counted), one full with a
        waiting list, one with places left."""
        station = spots[1]
        base = {"services": ["haircut"], "point": station.id, "place": station.name, "org_unit": self.units[code].id,
                "target_groups": ["courier", "rider"], "partners": ["charity"], "signup_open": True,
                "participants": 0, "new_members": 0}
        plans = [(self.today - timedelta(days=9), "骑手驿站读书分享会", ["reading"], 20, (16, 13)),
                 (self.today + timedelta(days=4), "快递小哥义务理发", ["haircut"], 15, (19, 0)),
                 (self.today + timedelta(days=11), "新就业形态劳动者免费体检", ["health_check"], 40, (11, 0))]
        for day, title, services, capacity, (known, came) in plans:
            activity, _ = create_activity({**base, "title": title, "held_on": day, "services": services,
                                           "capacity": capacity, "summary": "报名参加，到场签到"},
                                          user, self.key("activity"))
            roster.activity(activity, known, user, day - timedelta(days=6), check_in=came)

    def yinghai(self):
        rng, code = self.rng, "yinghai"
        staff, boss = self.user_of(code, "staff"), self.user_of(code, "supervisor")
        market = self.point(code, "首航超市瀛海店门前", "supermarket", "每周四上午", ["courier", "rider", "merchant_staff"])
        mall = self.point(code, "环宇坊商圈", "business_district", "每周四上午", ["rider", "merchant_staff"])
        for i, day in enumerate(self.days(weekday=3)):  # every Thursday
            point = (market, mall)[i % 2]
            n = rng.randint(2, 9)
            new = {"courier": rng.randint(0, n)}
            new["rider"] = rng.randint(0, n - new["courier"])
            new["merchant_staff"] = n - new["courier"] - new["rider"]
            self.meeting(code, day, staff, point=point, venue=point.name, groups=("courier", "rider", "merchant_staff"),
                         new=new, cards=rng.randint(2, 12), services=["leaflets", "legal"], partners=["bank"])
        firms = self.enterprises(code)
        shops = [e for e in firms if e.area in SHOP_AREAS]
        for year, month in _months(self.start, self.end):
            for day in (date(year, month, 8), date(year, month, 22)):
                if day <= self.end:
                    self.meeting(code, day, boss, kind="enterprise", fmt="one_on_one", groups=(),
                                 participants=self.pick(firms, day, 1), services=(), venue="企业会议室")
            day = min(date(year, month, rng.randint(1, 28)), self.end)
            for shop in self.pick(shops, day, 2):
                self.visit(shop, day, staff, rng.choice(["policy", "member_service"]))
        span = (self.end - self.start).days
        topics = ["职工素质提升培训：安全生产", "职工素质提升培训：消防知识", "职工素质提升培训：急救技能",
                  "职工素质提升培训：劳动法律", "职工素质提升培训：职业礼仪"]
        for i in range(YINGHAI_TRAININGS):
            day = self.start + timedelta(days=int((i + 0.5) * span / YINGHAI_TRAININGS))
            served = self.pick(firms, day, rng.randint(1, 2))
            create_training({"title": topics[i % len(topics)], "category": "quality", "held_on": day,
                             "hours": rng.choice([2, 3, 4]), "trainer": rng.choice(["区职工大学讲师", "消防支队教员", "律师事务所律师"]),
                             "org_unit": self.units[code].id, "participants": rng.randint(15, 60),
                             "summary": "应企业需求上门培训，职工反响良好", "enterprise_ids": [e.id for e in served]},
                            boss, self.key("training"))

    def panggezhuang(self):
        rng, code = self.rng, "panggezhuang"
        user = self.user_of(code)
        mimo = self.point(code, "众美城MIMO公馆", "business_district", "每周三下午", ["rider", "courier", "merchant_staff"],
                          notes="与镇党建办、团委、妇联联合设点")
        firms = self.enterprises(code)
        for year, month in _months(self.start, self.end):
            weeks = [d for d in self.days(weekday=2) if d.year == year and d.month == month]
            held = weeks if rng.random() < 0.6 else weeks[:-1]  # some months fall short
            for day in held:
                n = rng.randint(1, 8)
                self.meeting(code, day, user, point=mimo, venue=mimo.name, new={"rider": n},
                             services=["leaflets", rng.choice(["reading", "walk", "red_film", "haircut"])],
                             partners=["party", "youth", "women"])
            for day in (date(year, month, 10), date(year, month, 25)):
                if day <= self.end and rng.random() < 0.85:
                    self.meeting(code, day, user, kind="enterprise", fmt="collective", groups=(),
                                 participants=self.pick(firms, day, rng.randint(2, 4)), services=(),
                                 partners=["party"], venue="镇总工会会议室")

    def xihongmen(self):
        rng, code = self.rng, "xihongmen"
        user = self.user_of(code)
        spots = [self.point(code, "荟聚外卖等餐点", "rider_spot", "每周一、周四中午", ["rider"]),
                 self.point(code, "欣宁街暖心驿站", "warm_station", "全天开放", ["rider", "courier"],
                            notes="户外暖心驿站，配有换电柜、饮水和充电设施"),
                 self.point(code, "宏福暖心驿站", "warm_station", "全天开放", ["rider", "courier", "truck"],
                            notes="户外暖心驿站，配有换电柜")]
        unionized = self.enterprises(code, Enterprise.stage.in_(stages.stages_with_status("founded")))
        firms = self.enterprises(code)
        for year, month in _months(self.start, self.end):
            day = min(date(year, month, rng.randint(3, 26)), self.end)
            for ent in self.known_by(unionized, day):  # every unionized enterprise, every month
                self.visit(ent, day, user, "member_service", needs=0.2)
            weeks = [d for d in self.days(weekday=0) if d.year == year and d.month == month]
            for day in weeks:
                spot = rng.choice(spots)
                title = rng.choice(["站点早会宣讲", "", ""])
                self.meeting(code, day, user, point=spot, venue=spot.name, title=title,
                             new={"rider": rng.randint(0, 6), "courier": rng.randint(0, 3)},
                             services=["leaflets", rng.choice(["cooling" if month in (6, 7, 8) else "holiday", "health_check"])])
            for day in (date(year, month, 12), date(year, month, 27)):
                if day <= self.end:
                    self.meeting(code, day, user, kind="enterprise", fmt="collective", groups=(),
                                 participants=self.pick(firms, day, 3), services=(), venue="镇总工会会议室")
            station = rng.choice(spots[1:])
            day = min(date(year, month, 15), self.end)
            create_activity({"title": "暖心驿站" + ("送清凉" if month in (6, 7, 8) else "义务理发和健康义诊"),
                             "held_on": day, "services": ["cooling"] if month in (6, 7, 8) else ["haircut", "health_check"],
                             "point": station.id, "place": station.name, "org_unit": self.units[code].id,
                             "target_groups": ["rider", "courier"], "partners": ["charity"],
                             "participants": rng.randint(20, 60), "new_members": rng.randint(0, 5),
                             "summary": "为骑手和快递员提供服务"}, user, self.key("activity"))

    def district(self):
        rng, admin = self.rng, self.users["admin"]
        venues = ["大兴区职工服务中心", "荟聚购物中心广场", "亦庄创新园", "龙湖天街"]
        for year, month in _months(self.start, self.end):
            day = third_thursday(year, month)
            if day > self.end:
                continue
            n = rng.randint(5, 20)
            self.meeting("daxing", day, admin, level="district", venue=rng.choice(venues), new={"courier": n // 2, "rider": n - n // 2},
                         attendees=rng.randint(80, 150), cards=rng.randint(10, 30),
                         services=["leaflets", "legal", "care"], partners=["bank", "party", "women"],
                         title=f"{month}月区级职工沟通会")

    def other_units(self):
        rng = self.rng
        skip = {"daxing", "gaomidian", "gaomidian_station", "yinghai", "panggezhuang", "xihongmen"}
        codes = [c for c, u in self.units.items() if c not in skip and u.kind not in ("district", "station")]
        for i, code in enumerate(codes):
            user = self.user_of(code)
            firms = self.enterprises(code)
            if i % 2:  # half the units log only a visit now and then (the grid shows them short)
                for year, month in _months(self.start, self.end):
                    day = min(date(year, month, rng.randint(1, 28)), self.end)
                    for ent in self.pick(firms, day, 1 if rng.random() < 0.5 else 0):
                        self.visit(ent, day, user)
                continue
            diligence = rng.uniform(0.45, 1.0)
            for year, month in _months(self.start, self.end):
                for day in self.days(weekday=rng.choice([1, 3, 4])):
                    if day.year == year and day.month == month and rng.random() < diligence:
                        self.meeting(code, day, user, new={"courier": rng.randint(0, 4), "rider": rng.randint(0, 4)})
                for day in (date(year, month, 9), date(year, month, 24)):
                    if day <= self.end and firms and rng.random() < diligence:
                        self.meeting(code, day, user, kind="enterprise", fmt="collective", groups=(), services=(),
                                     participants=self.pick(firms, day, 2))
                day = min(date(year, month, rng.randint(1, 28)), self.end)
                for ent in self.pick(firms, day, 1):
                    self.visit(ent, day, user, rng.choice(["founding", "member_service", "policy", "survey"]))

    def work_the_needs(self):
        """Older needs are mostly handled; recent ones are open."""
        rng = self.rng
        for need in Need.select().order_by(Need.id):
            age = (self.today - need.raised_on).days
            if age > 45 and rng.random() < 0.75:
                update_need(need, {"status": "resolved", "resolution": "已协调相关部门解决，回访企业满意",
                                   "resolved_on": min(need.raised_on + timedelta(days=rng.randint(5, 40)), self.today)},
                            need.created_by or self.users["admin"], need.version)
            elif age > 10 and rng.random() < 0.4:
                update_need(need, {"status": "in_progress", "resolution": ""}, need.created_by or self.users["admin"],
                            need.version)


def add_field_work(rng: random.Random, today: date, units: dict, users: dict, full: bool = True):
    """Call inside load_demo's transaction, after the enterprise files exist. A small demo
    (`full=False`) keeps the units of section 12 and leaves the other units' routine out."""
    work = _FieldWork(rng, today, units, users)
    work.first_contacts()
    work.gaomidian()
    work.yinghai()
    work.panggezhuang()
    work.xihongmen()
    work.district()
    if full:
        work.other_units()
    work.work_the_needs()

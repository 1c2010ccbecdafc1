"""Demo data: Daxing's real org-unit tree, a handful of logins and a few hundred enterprise files
with believable founding tracks.

Everything is written through the services (create_user, create_enterprise, add_contact,
founding.services.move), so the files look exactly like files people made: a change log, a
dated founding track, validated codes and phones. The data is reproducible from the seed
(dates are offsets from today, so the same seed on the same day gives the same data).
"""
import random
from datetime import date, timedelta

from crm.auth.models import User
from crm.auth.services import create_user
from crm.common.errors import ServiceError
from crm.common.text import normalise_name
from crm.common.timeutil import local_today
from crm.compliance.services import add_setting
from crm.db import db
from crm.demo.documents import add_founding_documents
from crm.demo.fieldwork import add_field_work, report_span
from crm.demo.followups import add_followups
from crm.demo.vocabulary import (AREAS, BACK_NOTES, BRANDS, DELIVERY, DEMO_PASSWORD, EXPRESS, FIRST_CONTACT,
                                 GIVEN, MOBILE_PREFIXES, PLACES, RESUME_NOTES, SHOP_PREFIXES, SHOPS,
                                 SIDE_NOTES, SKIP_NOTES, SPECIAL, SURNAMES, SUSPENDED_NOTE, TARGETS, TRADES,
                                 USERS, WEIGHTS, WHO_AGREED, DemoLogin)
from crm.enterprises import creditcode
from crm.enterprises.models import Enterprise
from crm.enterprises.services import add_contact, create_enterprise
from crm.founding import stages
from crm.founding.services import move
from crm.org.models import OrgUnit
from crm.org.services import load_tree_csv


def is_empty() -> bool:
    """True when the database holds no users and no enterprise files (safe to load the demo)."""
    return not User.select().exists() and not Enterprise.select().exists()


def existing_logins() -> list[DemoLogin]:
    """The demo logins that exist in this database (for `crm serve --demo` on a loaded one)."""
    found = {u.username: u for u in User.select().where(User.username.in_([row[0] for row in USERS]))}
    return [DemoLogin(u.username, u.name, u.role, u.org_unit.name)
            for u in (found.get(row[0]) for row in USERS) if u is not None and u.active]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _allocate(total: int, units: list[str]) -> dict[str, int]:
    """Largest-remainder split of `total` over units by WEIGHTS; every unit gets one when possible."""
    floor = 1 if total >= len(units) else 0
    rest = total - floor * len(units)
    weight_sum = sum(WEIGHTS.get(u, 5) for u in units)
    shares = {u: rest * WEIGHTS.get(u, 5) / weight_sum for u in units}
    counts = {u: floor + int(shares[u]) for u in units}
    left = total - sum(counts.values())
    for u in sorted(units, key=lambda u: (-(shares[u] - int(shares[u])), units.index(u)))[:left]:
        counts[u] += 1
    return counts


class _Builder:
    def __init__(self, rng: random.Random, today: date, units: dict, users: dict):
        self.rng = rng
        self.today = today
        self.units = units  # code -> OrgUnit
        self.users = users  # username -> User
        self.names: set[str] = set()
        self.codes: set[str] = set()
        self.phones: set[str] = set()

    # ---- small generators ------------------------------------------------------------
    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def mobile(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def code(self, prefix: str) -> str:
        while True:
            code = creditcode.generate(self.rng, prefix=prefix)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def unique(self, make) -> str:
        for _ in range(200):
            name = make()
            if normalise_name(name) not in self.names:
                self.names.add(normalise_name(name))
                return name
        raise RuntimeError("could not make a unique demo name")

    def day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def recorder(self, unit_code: str) -> User:
        """The demo user who would have written this unit's files (staff first), else the admin."""
        unit = self.units[unit_code]
        candidates = [u for u in self.users.values() if u.org_unit_id == unit.id and u.role == "staff"] \
            or [u for u in self.users.values() if u.org_unit_id == unit.id] \
            or [u for u in self.users.values()
                if unit.parent_id and u.org_unit_id == unit.parent_id and u.role in ("staff", "supervisor")] \
            or [self.users["admin"]]
        return self.rng.choice(candidates)

    # ---- one file's profile ------------------------------------------------------------
    def profile(self, unit_code: str) -> dict:
        rng = self.rng
        places, town, roads = PLACES[unit_code]
        station_heavy = unit_code in ("gaomidian_station", "xihongmen_station", "gaomidian", "xihongmen")
        roll = rng.random()
        express_share, delivery_share = (0.18, 0.14) if station_heavy else (0.07, 0.04)
        if roll < express_share:
            category = "express"
        elif roll < express_share + delivery_share:
            category = "delivery"
        elif roll < express_share + delivery_share + 0.22:
            category = "merchant"
        elif roll < express_share + delivery_share + 0.24:
            category = "other"
        else:
            category = "enterprise"
        area = rng.choice(AREAS[unit_code]) if unit_code in AREAS and rng.random() < 0.45 else ""
        data = {"category": category, "area": area, "new_form_workers": None}
        if category == "express":
            data["name"] = self.unique(
                lambda: f"{rng.choice(EXPRESS)}{rng.choice(places)}{rng.choice(['站', '营业部', '网点'])}")
            data.update(industry="G", kind=rng.choice(["other", "llc"]), employees=rng.randint(4, 20),
                        new_form_workers=rng.randint(8, 60))
        elif category == "delivery":
            data["name"] = self.unique(lambda: f"{rng.choice(DELIVERY)}{rng.choice(places)}站点")
            data.update(industry="G", kind="other", employees=rng.randint(3, 10),
                        new_form_workers=rng.randint(20, 150))
        elif category == "merchant":
            def shop_name():
                word = rng.choice(list(SHOPS))
                where = area if area and rng.random() < 0.6 else rng.choice(places)
                return f"{where}{rng.choice(SHOP_PREFIXES)}{word}"
            data["name"] = self.unique(shop_name)
            word = next(w for w in SHOPS if data["name"].endswith(w))
            data.update(industry=SHOPS[word], kind="individual", employees=rng.randint(1, 12))
        elif category == "other":
            rural = self.units[unit_code].kind == "town"
            kind = rng.choice(["social_org", "social_org", "other"] if rural else ["social_org"])
            if kind == "social_org":
                data["name"] = self.unique(lambda: rng.choice([
                    f"北京市大兴区{rng.choice(['物流', '餐饮', '家政', '物业', '建筑', '电子商务'])}行业协会",
                    f"北京市大兴区{rng.choice(BRANDS)}{rng.choice(['养老照料中心', '职业技能培训学校', '社会工作服务中心'])}"]))
                industry = "S" if data["name"].endswith("协会") else rng.choice(["P", "Q", "O"])
            else:
                data["name"] = self.unique(lambda: f"北京市大兴区{rng.choice(places)}"
                                                   f"{rng.choice(['西瓜', '梨', '蔬菜', '花卉'])}种植专业合作社")
                industry = "A"
            data.update(industry=industry, kind=kind, employees=rng.randint(3, 40))
        else:
            industry = rng.choices(list(TRADES), weights=[w for w, _ in TRADES.values()])[0]
            trade = rng.choice(TRADES[industry][1])
            kind = rng.choices(["llc", "joint_stock", "sole", "partnership", "state", "foreign"],
                               weights=[72, 6, 8, 4, 4, 6])[0]

            def company_name():
                b = rng.choice(BRANDS)
                if kind == "joint_stock":
                    return f"北京{b}{trade}股份有限公司"
                if kind == "sole":
                    return f"北京市大兴区{b}{trade}中心"
                if kind == "partnership":
                    return f"北京{b}{trade}中心（有限合伙）"
                if kind == "foreign":
                    return f"{b}（北京）{trade}有限公司"
                if kind == "state":
                    return f"北京{b}{trade}集团有限公司"
                if rng.random() < 0.08:
                    return f"北京{b}{trade}有限公司大兴分公司"
                return f"北京{b}{trade}有限公司"
            data["name"] = self.unique(company_name)
            big = kind in ("joint_stock", "state", "foreign") or industry == "C"
            employees = rng.randint(25, 500) if rng.random() < (0.6 if big else 0.22) else rng.randint(3, 24)
            data.update(industry=industry, kind=kind, employees=employees)
        data["address"] = f"北京市大兴区{town}{rng.choice(roads)}{rng.randint(1, 199)}号" + \
            (f"{rng.randint(1, 3)}层" if rng.random() < 0.3 else "")
        return data

    def finish_profile(self, unit_code: str, data: dict, is_key: bool | None = None) -> dict:
        """Codes, people, flags and status for a profile."""
        rng = self.rng
        kind, category, employees = data["kind"], data["category"], data["employees"] or 0
        if kind == "individual":
            data["credit_code"] = self.code("92") if rng.random() < 0.55 else ""
        elif kind == "social_org":
            data["credit_code"] = self.code("51" if data["name"].endswith("协会") else "52")
        elif data.get("industry") == "A" and kind == "other":
            data["credit_code"] = self.code("93")
        else:
            data["credit_code"] = self.code("91") if rng.random() < 0.98 else ""
        data["org_unit"] = self.units[unit_code].id
        data["legal_rep"] = self.person()
        if is_key is None:
            is_key = category == "enterprise" and employees >= 25 and rng.random() < 0.35 \
                or category == "enterprise" and rng.random() < 0.03
        data["is_key"] = bool(is_key)
        if kind == "state" or employees >= 100 and rng.random() < 0.7:
            data["party_org"] = "established"
        elif rng.random() < 0.25:
            data["party_org"] = "joint"
        elif rng.random() < 0.5:
            data["party_org"] = "none"
        else:
            data["party_org"] = ""
        roll = rng.random()
        data["status"] = "normal" if roll < 0.94 else ("suspended" if roll < 0.97 else "moved_out")
        tags = []
        if category in ("express", "delivery"):
            tags.append("新就业形态")
        if data["area"]:
            tags.append("商圈楼宇")
        if data["is_key"]:
            tags.append("重点培育")
        data["tags"] = ",".join(tags)
        return data

    def contact(self, data: dict) -> dict | None:
        rng = self.rng
        if rng.random() < 0.12:
            return None
        titles = {"express": ["站长", "网点负责人"], "delivery": ["站长", "片区经理"],
                  "merchant": ["店主", "店长"], "other": ["负责人", "秘书长", "办公室主任"],
                  "enterprise": ["人事经理", "行政主管", "办公室主任", "综合部经理", "总经理助理"]}
        c = {"name": self.person(), "title": rng.choice(titles[data["category"]]), "phone": self.mobile()}
        if rng.random() < 0.4:
            c["wechat"] = "wx_" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(8))
        return c

    # ---- founding track ---------------------------------------------------------------
    def target(self, data: dict, wanted: str | None) -> str:
        if data["status"] == "moved_out":
            return "closed"
        if wanted:
            return wanted
        if data["status"] == "suspended":
            return "on_hold"
        keys = [k for k, _ in TARGETS]
        weights = []
        for key, w in TARGETS:
            if key == "not_eligible" and (data["employees"] or 0) >= 25:
                w = 0
            if key in ("approved", "registered") and data["is_key"]:
                w *= 3
            weights.append(w)
        return self.rng.choices(keys, weights=weights)[0]

    def union_fields(self, data: dict, founded: date, chair: str | None = None) -> dict:
        rng = self.rng
        employees = data["employees"] or 0
        workers = employees + (data.get("new_form_workers") or 0)
        if data["category"] in ("express", "delivery"):
            form = "regional"
        elif employees < 25:
            form = rng.choice(["joint", "joint", "regional"])
        else:
            form = "single"
        if form == "single":
            union_name = f"{data['name']}工会委员会"
        elif form == "joint":
            where = data["area"] or PLACES[self._unit_code(data)][0][0]
            union_name = f"{where}联合工会委员会"
        else:
            trade = "快递物流" if data["category"] in ("express", "delivery") else "商户"
            union_name = f"{PLACES[self._unit_code(data)][1]}{trade}行业工会联合会"
        term_end = _add_years(founded, 5)
        while term_end < self.today - timedelta(days=60):  # re-elected every 5 years since
            term_end = _add_years(term_end, 5)
        return {"union_name": union_name, "union_founded_on": founded, "union_chair": chair or self.person(),
                "member_count": max(1, int(workers * rng.uniform(0.7, 1.0))), "union_form": form,
                "union_term_end": term_end}

    def _unit_code(self, data: dict) -> str:
        return next(c for c, u in self.units.items() if u.id == data["org_unit"])

    def evidence(self, to_stage: str, on: date, data: dict, chair: str) -> dict:
        rng = self.rng
        places, town, _ = PLACES[self._unit_code(data)]
        year = on.year
        if to_stage == "contacted":
            text = rng.choice(FIRST_CONTACT).format(unit=town, place=data["area"] or places[0])
            return {"first_contact": text}
        if to_stage == "willing":
            return {"who_agreed": rng.choice(WHO_AGREED)}
        if to_stage == "applied":
            return {"request_sent_on": on}
        if to_stage == "preparing":
            return {"approval_no": f"兴工筹字〔{year}〕{rng.randint(1, 120)}号",
                    "prep_members": "、".join([chair] + [self.person() for _ in range(rng.randint(2, 4))])}
        if to_stage == "recruiting":
            return {"members_so_far": max(1, int((data["employees"] or 5) * rng.uniform(0.2, 0.7)))}
        if to_stage == "elected":
            return {"assembly_on": on, "chair": chair, "committee_size": rng.choice([3, 3, 5, 5, 7])}
        if to_stage == "approved":
            return {"approval_no": f"兴工批字〔{year}〕{rng.randint(1, 200)}号"}
        return {}

    def plan(self, target: str, side_note: str = "") -> list[tuple[str, str]]:
        """[(to_stage, note)] from 未接触 to `target`, with the odd skip, step back or pause."""
        rng = self.rng
        order = {s.key: s.order for s in stages.STAGES}
        by_order = [s.key for s in stages.STAGES]
        if target in order:
            goal, side = order[target], None
        else:
            side = target
            goal = rng.choice([0, 1, 1, 1, 2, 2, 3] if target != "closed" else [0, 1, 1, 2, 3, 5])
        steps, current = [], 0
        paused = side is None and goal >= 2 and rng.random() < 0.08
        stepped_back = side is None and goal >= 4 and rng.random() < 0.08
        while current < goal:
            nxt = current + 1
            if goal - current >= 2 and rng.random() < 0.08:
                nxt = current + 2
                steps.append((by_order[nxt], SKIP_NOTES[by_order[nxt]]))
            else:
                steps.append((by_order[nxt], ""))
            current = nxt
            if paused and current == 2:
                steps.append(("on_hold", rng.choice(SIDE_NOTES["on_hold"])))
                steps.append((by_order[current], rng.choice(RESUME_NOTES)))
                paused = False
            if stepped_back and current == 3 and goal > 3:
                steps.append((by_order[2], rng.choice(BACK_NOTES)))
                steps.append((by_order[3], ""))
                stepped_back = False
        if side:
            steps.append((side, side_note or rng.choice(SIDE_NOTES[side])))
        return steps

    # ---- one file ------------------------------------------------------------------------
    def build(self, unit_code: str, data: dict, wanted: str | None = None):
        rng, today = self.rng, self.today
        user = self.recorder(unit_code)
        target = self.target(data, wanted)
        contact = self.contact(data)
        chair = self.person()
        if target in ("approved", "registered") and rng.random() < 0.6:
            # An imported file of an enterprise that has had its union for years.
            founded = self.day_between(_add_years(today, -12), today - timedelta(days=400))
            data.update(self.union_fields(data, founded, chair))
            if target == "registered":
                data["union_credit_code"] = self.code("81")
            ent = create_enterprise(data, user, contact=contact, initial_stage=target,
                                    initial_stage_on=founded, source="import")
            self.second_contact(ent, data, user, chair)
            return ent

        steps = self.plan(target, SUSPENDED_NOTE if data["status"] == "suspended" else "")
        # The track starts somewhere in the last two years; longer tracks start earlier.
        earliest = today - timedelta(days=730)
        latest = today - timedelta(days=min(700, 25 * len(steps)))
        start = self.day_between(earliest, latest)
        dates = sorted(self.day_between(start + timedelta(days=1), today) for _ in steps)
        ent = create_enterprise(data, user, contact=contact, initial_stage_on=start, source="create")
        current, founded = stages.FIRST, None
        for (to_stage, note), on in zip(steps, dates):
            if to_stage == "elected":
                founded = on
            union = None
            if to_stage == "approved":
                union = self.union_fields(data, founded or on, chair)
            evidence = self.evidence(to_stage, on, data, chair)
            if to_stage == "registered":
                union = {"union_credit_code": self.code("81")}
                evidence = dict(union)
            move(ent, to_stage, user, expected_from=current, occurred_on=on,
                 note=note.format(where=data["area"] or PLACES[unit_code][1]),
                 evidence=evidence, union=union)
            current = to_stage
        if stages.union_status(current) == "founded":
            self.second_contact(ent, data, user, chair)
        return ent

    def second_contact(self, ent, data, user, chair):
        """A unionized firm's union chair is a contact too (on about half of them)."""
        if self.rng.random() < 0.5 and data["category"] == "enterprise":
            add_contact(ent, {"name": chair, "title": "工会主席", "phone": self.mobile()}, user)


def load_demo(seed: int = 2026, enterprises: int = 300) -> list[DemoLogin]:
    """Fill an empty database with the demo (org tree, logins, enterprise files with tracks).

    Runs inside an app context with the database bound. All or nothing: one transaction.
    Refuses to run when users or enterprise files already exist.
    """
    if enterprises < 0:
        raise ServiceError("企业数量不能为负数")
    if not is_empty():
        raise ServiceError("数据库中已有用户或企业档案，演示数据只能载入空数据库")
    rng = random.Random(seed)
    today = local_today()
    logins = []
    with db.atomic():
        load_tree_csv()
        units = {u.code: u for u in OrgUnit.select().order_by(OrgUnit.path)}
        users = {}
        for username, name, role, code in USERS:
            users[username] = create_user(username, name, role, units[code], DEMO_PASSWORD)
            logins.append(DemoLogin(username, name, role, units[code].name))

        builder = _Builder(rng, today, units, users)
        field_units = [c for c, u in units.items() if u.kind != "district" and c in PLACES]
        special = [s for s in SPECIAL if s[0] in units][:enterprises]
        counts = _allocate(enterprises, field_units)
        for s in special:  # the hand-made files count toward their unit's share
            counts[s[0]] -= 1
        deficit = -sum(min(0, n) for n in counts.values())
        counts = {code: max(0, n) for code, n in counts.items()}
        for _ in range(deficit):  # taken from the fullest units instead
            counts[max(field_units, key=lambda code: counts[code])] -= 1

        for unit_code, name, industry, kind, category, employees, nfw, area, is_key, wanted in special:
            builder.names.add(normalise_name(name))
            data = {"name": name, "industry": industry, "kind": kind, "category": category,
                    "employees": employees, "new_form_workers": nfw or None, "area": area,
                    "address": f"北京市大兴区{PLACES[unit_code][1]}{rng.choice(PLACES[unit_code][2])}"
                               f"{rng.randint(1, 199)}号"}
            data = builder.finish_profile(unit_code, data, is_key=is_key)
            data["status"] = "normal"
            builder.build(unit_code, data, wanted)
        for unit_code in field_units:
            for _ in range(counts[unit_code]):
                data = builder.finish_profile(unit_code, builder.profile(unit_code))
                builder.build(unit_code, data)
        if enterprises:
            add_founding_documents(units, users)
            add_field_work(rng, today, units, users, full=enterprises >= 100)
            add_followups(rng, today, units, users)
            if "xihongmen" in units:  # 西红门 visits every unionized firm monthly (its own rule)
                start = report_span(today)[0]  # chosen when the demo's year began
                add_setting("unionized_monthly", units["xihongmen"], True, 100, start, users["admin"],
                            "西红门镇自选：已建会企业每月走访", today=start)
    return logins

"""The district-scale data set (for benchmarks): Daxing's org units, 300 users, 100,000 enterprises with
their contacts and founding tracks, 1,000,000 visits over three years, 30,000 meetings, 20,000
trainings, 100,000 needs and 200,000 follow-ups — reproducible from a seed, written with batched
inserts (explicit ids, so references need no lookups), into an empty database.

Consistency kept with what the services would have written: each file's stage is where its
founding track ends and `stage_since` is that move's date; `last_contact_on` is its latest visit or
enterprise meeting, `last_visit_on` its latest visit; `search_text` and the name's pinyin keys feed
the search indexes; every visit has its visitor.
"""
import random
import time
from datetime import date, datetime, timedelta

from peewee import AutoField
from werkzeug.security import generate_password_hash

from config import Config
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.text import nfkc, normalise_name
from crm.common.timeutil import local_today
from crm.db import db, is_postgres
from crm.demo.firms import is_empty
from crm.demo.vocabulary import (BRANDS, DELIVERY, DEMO_PASSWORD, EXPRESS, GIVEN, MOBILE_PREFIXES, PLACES,
                                 SHOP_PREFIXES, SHOPS, SURNAMES, TARGETS, TRADES, USERS, WEIGHTS)
from crm.enterprises import creditcode, pinyin
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.enterprises.similar import core as name_core
from crm.followups.models import FollowUp
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers
from crm.models import MODELS
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.org.services import load_tree_csv
from crm.stats.services import rebuild
from crm.trainings.models import Training, TrainingEnterprise
from crm.visits.models import Visit, VisitVisitor

SIZES = {"users": 300, "enterprises": 100_000, "visits": 1_000_000, "meetings": 30_000, "trainings": 20_000,
         "followups": 200_000, "needs": 100_000}
BATCH = 1000
VISIT_TEXT = ["上门走访，了解企业用工情况和职工诉求", "宣传《工会法》和建会流程，发放宣传资料", "回访企业负责人，跟进建会意向",
              "走访门店，介绍会员服务和互助保障", "了解新就业形态劳动者入会情况", "送政策上门，解答劳动用工问题"]


class District:
    def __init__(self, seed: int, sizes: dict, today: date, log=print):
        self.rng = random.Random(seed)
        self.sizes, self.today, self.log = sizes, today, log
        self.start = today - timedelta(days=3 * 365)
        self.now = datetime.utcnow().replace(microsecond=0)

    # ---- helpers ---------------------------------------------------------------------------
    def insert(self, model, fields, rows):
        """Rows as tuples, inserted in batches inside the caller's transaction."""
        batch = []
        n = 0
        per = max(1, min(BATCH, 30000 // max(1, len(fields))))
        for row in rows:
            batch.append(row)
            if len(batch) >= per:
                model.insert_many(batch, fields=fields).execute()
                n += len(batch)
                batch = []
        if batch:
            model.insert_many(batch, fields=fields).execute()
            n += len(batch)
        return n

    def day(self, start=None, end=None):
        start, end = start or self.start, end or self.today
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def person(self):
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # ---- the parts -------------------------------------------------------------------------
    def run(self):
        started = time.perf_counter()
        with db.atomic():
            load_tree_csv()
        self.units = {u.code: u for u in OrgUnit.select().order_by(OrgUnit.path)}
        self.field_units = [c for c, u in self.units.items() if u.kind != "district" and c in PLACES]
        for step in (self.users, self.enterprises, self.visits, self.meetings, self.trainings, self.needs,
                     self.followups, self.finish, self.aggregates):
            t = time.perf_counter()
            with db.atomic():
                step()
            self.log(f"  {step.__name__}: {time.perf_counter() - t:.1f} s")
        if is_postgres():
            # The planner's statistics of the new rows and their visibility map (autovacuum would
            # do both later: meanwhile the first requests are planned as for empty tables, and an
            # index-only scan reads each row from the table too). Outside any transaction.
            t = time.perf_counter()
            db.execute_sql("VACUUM ANALYZE")
            self.log(f"  vacuum analyze: {time.perf_counter() - t:.1f} s")
        self.log(f"district data set written in {time.perf_counter() - started:.1f} s")

    def aggregates(self):
        """The dashboard's and reports' aggregates, so the first page is as quick as the next."""
        rebuild()

    def users(self):
        hashed = generate_password_hash(DEMO_PASSWORD, method=Config.PASSWORD_HASH_METHOD)
        rows, self.staff, uid = [], {c: [] for c in self.field_units}, 0
        for username, name, role, code in USERS:  # the usual demo logins first
            uid += 1
            rows.append((uid, username, name, role, self.units[code].id, hashed, True))
            if code in self.staff and role in ("staff", "supervisor"):
                self.staff[code].append(uid)
        codes = list(self.field_units)
        while uid < self.sizes["users"]:
            code = codes[uid % len(codes)]
            uid += 1
            role = "supervisor" if not any(r[3] == "supervisor" and r[4] == self.units[code].id for r in rows) else \
                ("viewer" if uid % 40 == 0 else "staff")
            rows.append((uid, f"u{uid:04d}", self.person(), role, self.units[code].id, hashed, True))
            if role in ("staff", "supervisor"):
                self.staff[code].append(uid)
        self.admin = 1
        for code in codes:  # every unit has someone to record its work
            if not self.staff[code]:
                self.staff[code].append(1)
        self.insert(User, [User.id, User.username, User.name, User.role, User.org_unit, User.password_hash,
                           User.active], rows)

    def _name(self, code, i):
        rng = self.rng
        place = rng.choice(PLACES[code][0])
        roll = rng.random()
        if roll < 0.06:
            return f"{rng.choice(EXPRESS)}{place}站{i % 97}", "express", "G"
        if roll < 0.10:
            return f"{rng.choice(DELIVERY)}{place}站点{i % 89}", "delivery", "G"
        if roll < 0.40:
            word, industry = rng.choice(list(SHOPS.items()))
            return f"{place}{rng.choice(SHOP_PREFIXES)}{word}{i % 997}号店", "merchant", industry
        industry = rng.choices(list(TRADES), weights=[w for w, _ in TRADES.values()])[0]
        return f"北京{rng.choice(BRANDS)}{rng.choice(TRADES[industry][1])}有限公司{PLACES[code][1]}{i}分公司" \
            if rng.random() < 0.15 else f"北京{rng.choice(BRANDS)}{rng.choice(BRANDS)}{rng.choice(TRADES[industry][1])}有限公司{i}", \
            "enterprise", industry

    def enterprises(self):
        rng, n = self.rng, self.sizes["enterprises"]
        weights = [WEIGHTS.get(c, 5) for c in self.field_units]
        targets = [t for t, _ in TARGETS]
        target_w = [w for _, w in TARGETS]
        order = {s.key: s.order for s in stages.STAGES}
        self.ent_unit, self.ent_filed, self.ent_stage = [None] * (n + 1), [None] * (n + 1), [None] * (n + 1)
        self.ent_founded = []
        ents, contacts, events, changes = [], [], [], []
        ev_id = 0
        for i in range(1, n + 1):
            code = rng.choices(self.field_units, weights=weights)[0]
            unit = self.units[code]
            name, category, industry = self._name(code, i)
            body = "91110115" + "".join(creditcode.ALPHABET[(i // 31 ** k) % 31] for k in range(8, -1, -1))
            credit = body + creditcode.check_char(body) if rng.random() < 0.85 else None
            filed = self.day(self.start - timedelta(days=365), self.today - timedelta(days=30))
            stage = rng.choices(targets, weights=target_w)[0]
            person, phone = self.person(), rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 99999999):08d}"
            address = f"北京市大兴区{rng.choice(PLACES[code][2])}{rng.randint(1, 300)}号"
            area = rng.choice(PLACES[code][0])
            employees = rng.choice([3, 5, 8, 12, 20, 26, 35, 50, 80, 120, 300]) if category == "enterprise" \
                else rng.randint(2, 40)
            founded = stage in ("approved", "registered")
            union_on = self.day(filed, self.today) if founded else None
            union_code = None
            if stage == "registered":
                ubody = "81110115" + body[8:]
                union_code = ubody + creditcode.check_char(ubody)
            # The founding track: filed at a stage, then the moves to where it ends.
            path = [stages.FIRST]
            if stage != stages.FIRST:
                if stage in order:
                    path += [s.key for s in stages.STAGES[1:order[stage] + 1]]
                else:
                    path += ["contacted", stage]
            when = filed
            ev_id += 1
            events.append((ev_id, i, None, stages.FIRST, "initial", filed, self.now, self.admin, "建档时的建会进度"))
            prev = stages.FIRST
            for step in path[1:]:
                when = min(self.today, when + timedelta(days=rng.randint(5, 120)))
                ev_id += 1
                events.append((ev_id, i, prev, step, stages.move_kind(prev, step), when, self.now,
                               rng.choice(self.staff[code]), "" if stages.move_kind(prev, step) == "forward" else "按实际情况调整"))
                prev = step
            status = "normal" if rng.random() < 0.95 else rng.choice(["suspended", "moved_out"])
            search = nfkc(" ".join(p for p in (name, credit or "", address, area, person, phone) if p)).lower()
            ents.append((i, name, normalise_name(name), name_core(name), credit, unit.id, address, area, industry, "llc" if category == "enterprise" else "individual",
                         category, employees, rng.randint(0, 30) if category in ("express", "delivery") else None,
                         self.person(), rng.random() < 0.02, stage, self.now, when, None,
                         f"{name[:20]}工会委员会" if founded else "", union_on, self.person() if founded else "",
                         rng.randint(5, employees + 5) if founded else None, union_code or "",
                         (union_on.replace(year=union_on.year + 5) if union_on and not (union_on.month == 2 and union_on.day == 29) else None),
                         "single" if founded else "", status, "", "", False, 1, self.now, self.now, search,
                         *pinyin.keys(name)))
            contacts.append((i, i, person, "负责人", phone, "", True, False, self.now))
            changes.append((i, i, self.admin, self.now, 1, "created", "", name, "create", ""))
            self.ent_unit[i], self.ent_filed[i], self.ent_stage[i] = code, filed, stage
            if founded:
                self.ent_founded.append(i)
        self.events = ev_id
        E = Enterprise
        self.insert(E, [E.id, E.name, E.name_norm, E.name_core, E.credit_code, E.org_unit, E.address, E.area, E.industry, E.kind,
                        E.category, E.employees, E.new_form_workers, E.legal_rep, E.is_key, E.stage,
                        E.stage_changed_at, E.stage_since, E.last_contact_on, E.union_name, E.union_founded_on,
                        E.union_chair, E.member_count, E.union_credit_code, E.union_term_end, E.union_form,
                        E.status, E.tags, E.notes, E.archived, E.version, E.created_at, E.updated_at,
                        E.search_text, E.name_pinyin, E.name_initials], ents)
        C = Contact
        self.insert(C, [C.id, C.enterprise, C.name, C.title, C.phone, C.wechat, C.is_primary, C.archived,
                        C.created_at], contacts)
        F = FoundingEvent
        self.insert(F, [F.id, F.enterprise, F.from_stage, F.to_stage, F.kind, F.occurred_on, F.recorded_at,
                        F.user, F.note], events)
        X = EnterpriseChange
        self.insert(X, [X.id, X.enterprise, X.user, X.at, X.version, X.field, X.old_value, X.new_value,
                        X.source, X.via], changes)

    def visits(self):
        rng, n, total = self.rng, self.sizes["enterprises"], self.sizes["visits"]
        self.last_contact = [None] * (n + 1)
        self.last_visit = [None] * (n + 1)
        hot = list(range(1, 11))  # ten files with a long history (300 visits each at full size)
        hot_quota = min(3000, total // 2)
        visitors = []

        def rows():
            for vid in range(1, total + 1):
                ent = hot[vid % 10] if vid <= hot_quota else rng.randint(1, n)
                code = self.ent_unit[ent]
                day = self.day(max(self.start, self.ent_filed[ent]), self.today)
                user = rng.choice(self.staff[code])
                if self.last_contact[ent] is None or day > self.last_contact[ent]:
                    self.last_contact[ent] = day
                if self.last_visit[ent] is None or day > self.last_visit[ent]:
                    self.last_visit[ent] = day
                visitors.append((vid, vid, user))
                yield (vid, ent, self.units[code].id, day, rng.choice(["door", "door", "phone", "meeting"]),
                       ",founding,", rng.choice(VISIT_TEXT), "", "", 1, False, self.now, user, self.now, user)
        V = Visit
        self.insert(V, [V.id, V.enterprise, V.org_unit, V.visited_on, V.kind, V.purposes, V.summary, V.outcome,
                        V.next_step, V.version, V.archived, V.created_at, V.created_by, V.updated_at, V.updated_by], rows())
        W = VisitVisitor
        self.insert(W, [W.id, W.visit, W.user], visitors)

    def meetings(self):
        rng, n = self.rng, self.sizes["enterprises"]
        by_unit = {}
        for ent in range(1, n + 1):
            by_unit.setdefault(self.ent_unit[ent], []).append(ent)
        meetings, members, parts = [], [], []
        pid = mid_members = 0
        for mid in range(1, self.sizes["meetings"] + 1):
            code = rng.choice(self.field_units)
            kind = "staff" if rng.random() < 0.7 else "enterprise"
            day = self.day()
            new = rng.randint(0, 15) if kind == "staff" else 0
            meetings.append((mid, kind, "routine", "face", self.units[code].id, day, f"{PLACES[code][1]}沟通会", "",
                             "", rng.randint(5, 60), new, rng.randint(0, new), "", "", "会议情况记录", 1, False,
                             self.now, rng.choice(self.staff[code]), self.now))
            if new:
                mid_members += 1
                members.append((mid_members, mid, rng.choice(["courier", "rider", "merchant_staff"]), new))
            if kind == "enterprise" and by_unit.get(code):
                for ent in rng.sample(by_unit[code], min(2, len(by_unit[code]))):
                    pid += 1
                    parts.append((pid, mid, ent))
                    if self.last_contact[ent] is None or day > self.last_contact[ent]:
                        self.last_contact[ent] = day
        M = Meeting
        self.insert(M, [M.id, M.kind, M.level, M.format, M.org_unit, M.held_on, M.title, M.venue, M.target_groups,
                        M.attendees, M.new_members, M.cards, M.services, M.partners, M.summary, M.version,
                        M.archived, M.created_at, M.created_by, M.updated_at], meetings)
        G = MeetingNewMembers
        self.insert(G, [G.id, G.meeting, G.group, G.count], members)
        P = MeetingEnterprise
        self.insert(P, [P.id, P.meeting, P.enterprise], parts)

    def trainings(self):
        rng, n = self.rng, self.sizes["enterprises"]
        rows, links = [], []
        for tid in range(1, self.sizes["trainings"] + 1):
            code = rng.choice(self.field_units)
            rows.append((tid, "职工素质提升培训", "quality", self.day(), self.units[code].id, rng.randint(10, 80),
                         "培训情况记录", 1, False, self.now, rng.choice(self.staff[code]), self.now))
            links.append((tid, tid, rng.randint(1, n)))
        T = Training
        self.insert(T, [T.id, T.title, T.category, T.held_on, T.org_unit, T.participants, T.summary, T.version,
                        T.archived, T.created_at, T.created_by, T.updated_at], rows)
        L = TrainingEnterprise
        self.insert(L, [L.id, L.training, L.enterprise], links)

    def needs(self):
        rng = self.rng

        def rows():
            for nid in range(1, self.sizes["needs"] + 1):
                ent = rng.randint(1, self.sizes["enterprises"])
                day = self.day(self.ent_filed[ent])
                status = rng.choices(["open", "in_progress", "resolved"], weights=[2, 1, 7])[0]
                yield (nid, self.units[self.ent_unit[ent]].id, ent, None, rng.choice(["legal", "training", "hardship", "policy"]),
                       "企业提出的需求", day, status, "已协调解决" if status == "resolved" else "", 1, False, self.now,
                       self.now)
        N = Need
        self.insert(N, [N.id, N.org_unit, N.enterprise, N.visit, N.category, N.detail, N.raised_on, N.status,
                        N.resolution, N.version, N.archived, N.created_at, N.updated_at], rows())

    def followups(self):
        rng, n = self.rng, self.sizes["enterprises"]

        def rows():
            for fid in range(1, self.sizes["followups"] + 1):
                ent = rng.randint(1, n)
                code = self.ent_unit[ent]
                who = rng.choice(self.staff[code])
                due = self.day(self.today - timedelta(days=400), self.today + timedelta(days=40))
                status = "open" if due >= self.today - timedelta(days=20) and rng.random() < 0.7 else \
                    rng.choices(["done", "cancelled", "open"], weights=[85, 5, 10])[0]
                done_on = min(self.today, due + timedelta(days=rng.randint(-5, 10))) if status in ("done", "cancelled") else None
                yield (fid, rng.choice(["走访", "回访", "推进建会", "送建会材料"]), self.units[code].id, ent, "manual", who,
                       self.staff[code][0], due, rng.choice(["high", "medium", "medium", "low"]), status,
                       "已办结" if status == "done" else "", done_on, datetime.combine(done_on, datetime.min.time()) if done_on else None,
                       who if done_on else None, 1, self.now, self.now)
        F = FollowUp
        self.insert(F, [F.id, F.title, F.org_unit, F.enterprise, F.source, F.assignee, F.assigned_by, F.due_on,
                        F.priority, F.status, F.completion_note, F.completed_on, F.completed_at, F.completed_by,
                        F.version, F.created_at, F.updated_at], rows())

    def finish(self):
        """Each file's last contact and last visit; PostgreSQL sequences past the explicit ids."""
        for field, days in ((Enterprise.last_contact_on, self.last_contact), (Enterprise.last_visit_on, self.last_visit)):
            pairs = [(ent, day) for ent, day in enumerate(days) if day is not None]
            for start in range(0, len(pairs), 500):
                chunk = pairs[start:start + 500]
                for day in {d for _, d in chunk}:
                    ids = [e for e, d in chunk if d == day]
                    Enterprise.update({field: day}).where(Enterprise.id.in_(ids)).execute()
        if is_postgres():
            for model in MODELS:
                if not isinstance(model._meta.primary_key, AutoField):
                    continue  # composite keys (the aggregates) have no sequence
                table = model._meta.table_name
                db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")


def load_district(seed: int = 2026, scale: float = 1.0, log=print):
    """Into an empty database only (ids are assigned here)."""
    if not is_empty():
        raise ServiceError("数据库中已有用户或企业档案，区级数据集只能装入空数据库")
    sizes = {k: max(1, int(v * scale)) if k != "users" else max(40, int(v * min(1.0, scale * 10)))
             for k, v in SIZES.items()}
    District(seed, sizes, local_today(), log).run()
    return sizes

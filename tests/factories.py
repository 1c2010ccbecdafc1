"""The `make` fixture's factory: records of every kind, written through the services."""
from datetime import timedelta

from crm.activities import services as activities
from crm.auth.models import User
from crm.common.timeutil import local_today
from crm.enterprises.services import create_enterprise
from crm.followups.services import Task, create
from crm.meetings import services as meetings
from crm.org.models import OrgUnit
from crm.org.services import create_unit
from crm.sync.services import new_form_key
from crm.trainings import services as trainings
from crm.visits import services as visits
from tests.passwords import PASSWORD, hashed


class Factory:
    """`make`: org units, users and enterprise files, and a record of each field-work kind and a
    follow-up, each written through its service as a form would write it."""

    def __init__(self, app=None):
        self._n = 0
        self.app = app

    def _next(self):
        self._n += 1
        return self._n

    def org(self, name=None, kind="town", parent=None):
        if parent is None and kind != "district":
            parent = OrgUnit.get_or_none(OrgUnit.parent.is_null()) or self.org("测试区总工会", "district", None)
        return create_unit(name or f"测试单位{self._next()}", kind, parent)

    def root(self):
        return OrgUnit.get_or_none(OrgUnit.parent.is_null()) or self.org("测试区总工会", "district", None)

    def user(self, role="staff", org=None, username=None, password=PASSWORD, name=None, active=True):
        org = org or (self.root() if role == "admin" else self.org())
        n = self._next()
        return User.create(username=username or f"{role}{n}", name=name or f"{role}用户{n}", role=role,
                           org_unit=org, password_hash=hashed(password), active=active)

    def enterprise(self, org=None, user=None, name=None, **data):
        org = org or self.org()
        n = self._next()
        values = {"name": name or f"测试企业{n}有限公司", "org_unit": org.id}
        values.update(data)
        contact = values.pop("contact", None)
        stage = values.pop("initial_stage", "not_contacted")
        stage_on = values.pop("initial_stage_on", None)
        return create_enterprise(values, user, contact=contact, initial_stage=stage, initial_stage_on=stage_on)

    def _saved(self, create):
        with self.app.app_context():
            record, _ = create()
        return type(record).get_by_id(record.id)

    def visit(self, ent, user, **data):
        """A visit to `ent` by `user` (its visitor), today unless `visited_on` says otherwise."""
        values = {"visited_on": local_today(), "kind": "door", "purposes": [], "summary": "走访",
                  "visitor_ids": [user.id], **data}
        return self._saved(lambda: visits.create_visit(ent, values, user, new_form_key(), {user.id}))

    def need(self, ent, user, category="legal", detail="企业提出的需求"):
        """A need raised at a visit to `ent`."""
        visit = self.visit(ent, user, need_categories=[category], need_notes={category: detail})
        return visit.needs.get()

    def meeting(self, user, ents=(), **data):
        values = {"kind": "enterprise", "level": "routine", "format": "face", "org_unit": user.org_unit_id,
                  "held_on": local_today(), "summary": "沟通会", "attendees": 10,
                  "enterprise_ids": [e.id for e in ents], "new_members": {}, **data}
        return self._saved(lambda: meetings.create_meeting(values, user, new_form_key()))

    def training(self, user, ents=(), **data):
        values = {"title": "职工培训", "held_on": local_today(), "category": "safety", "participants": 10,
                  "summary": "培训内容", "org_unit": user.org_unit_id, "enterprise_ids": [e.id for e in ents], **data}
        return self._saved(lambda: trainings.create_training(values, user, new_form_key()))

    def activity(self, user, ents=(), **data):
        values = {"title": "服务活动", "held_on": local_today(), "services": ["legal"], "participants": 10,
                  "new_members": 0, "org_unit": user.org_unit_id, "enterprise_ids": [e.id for e in ents], **data}
        return self._saved(lambda: activities.create_activity(values, user, new_form_key()))

    def followup(self, actor, ent, assignee=None, title="跟进", due_in=7, priority="medium"):
        return self._saved(lambda: create(actor, Task(title=title, enterprise=ent), assignee or actor,
                                          local_today() + timedelta(days=due_in), priority, new_form_key()))

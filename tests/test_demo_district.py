"""The district-scale generator at a small fraction: the same code as the full set, checked for
the consistency the services would have kept."""
from peewee import fn

from crm.enterprises import creditcode
from crm.enterprises.models import Contact, Enterprise
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.visits.models import Visit, VisitVisitor
from tests.conftest import login_as


def test_a_small_district_is_consistent(app):
    from crm.auth.models import User
    from crm.demo.district import load_district
    with app.app_context():
        sizes = load_district(seed=7, scale=0.003, log=lambda *a: None)
    assert Enterprise.select().count() == sizes["enterprises"] == 300
    assert Visit.select().count() == sizes["visits"] == 3000
    assert VisitVisitor.select().count() == 3000 and Contact.select().count() == 300
    codes = [e.credit_code for e in Enterprise.select() if e.credit_code]
    assert len(codes) == len(set(codes)) and all(creditcode.is_valid(c) for c in codes)
    # Each file's stage and stage_since are where its track ends.
    last = {}
    for ev in FoundingEvent.select().order_by(FoundingEvent.enterprise, FoundingEvent.occurred_on, FoundingEvent.id):
        last[ev.enterprise_id] = ev
    for ent in Enterprise.select():
        assert ent.stage == last[ent.id].to_stage and ent.stage_since == last[ent.id].occurred_on
    # last_contact_on is the latest visit or enterprise meeting, last_visit_on the latest visit.
    visits = dict(Visit.select(Visit.enterprise, fn.MAX(Visit.visited_on)).group_by(Visit.enterprise).tuples())
    assert {e.id: e.last_visit_on for e in Enterprise.select() if e.last_visit_on} == visits
    for ent_id, day in (MeetingEnterprise.select(MeetingEnterprise.enterprise, fn.MAX(Meeting.held_on))
                        .join(Meeting).group_by(MeetingEnterprise.enterprise).tuples()):
        visits[ent_id] = max(day, visits.get(ent_id, day))
    assert {e.id: e.last_contact_on for e in Enterprise.select() if e.last_contact_on} == visits
    # Every visit is filed under its firm's unit (the ledgers read it).
    assert not (Visit.select().join(Enterprise).where((Visit.org_unit.is_null())
                                                      | (Visit.org_unit != Enterprise.org_unit)).exists())
    # A file with a long history for the benchmark, and pages that work on the data.
    assert max(Visit.select(fn.COUNT(Visit.id)).group_by(Visit.enterprise).tuples())[0] >= 100
    client = login_as(app.test_client(), User.get(User.username == "admin"))
    for path in ("/", "/enterprises/?q=有限公司", "/enterprises/1", "/dashboard/", "/followups/", "/compliance/"):
        assert client.get(path).status_code == 200, path

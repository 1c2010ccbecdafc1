"""The aggregates behind the dashboard and the reports (crm/stats) stay equal to what the records
say after every kind of write the app makes, on both backends, with writers running at once;
a new visit shows on the dashboard at once; cells never computed are filled when first read."""
import threading
from datetime import date, datetime, timezone

import pytest

from crm.activities.services import create_activity
from crm.common import signals, timeutil
from crm.dashboard import queries as dashboard
from crm.db import db, is_sqlite
from crm.enterprises import services as ent_services
from crm.enterprises.models import Enterprise
from crm.founding import services as founding
from crm.meetings import services as meetings
from crm.members import links as member_links
from crm.members import services as member_services
from crm.stats import queries as stats_queries
from crm.stats import services as stats
from crm.stats.models import FirmStat, StageStay, UnitStat
from crm.trainings.services import create_training
from crm.visits import services as visits
from crm.visits.models import Visit
from tests.conftest import statements

TODAY = date(2026, 11, 24)
_keys = iter(range(10_000))


def key():
    return f"stats-test-form-key-{next(_keys):05d}"


def snapshot():
    return ({(u, m, k): v for u, m, k, v in
             UnitStat.select(UnitStat.org_unit, UnitStat.month, UnitStat.metric, UnitStat.value).tuples() if v},
            {(u, s, d): n for u, s, d, n in
             StageStay.select(StageStay.org_unit, StageStay.stage, StageStay.days, StageStay.count).tuples() if n},
            {(e, c): (u, d) for e, c, u, d in
             FirmStat.select(FirmStat.enterprise, FirmStat.cell, FirmStat.org_unit, FirmStat.data).tuples()})


def ready_cells():
    return {(u, m // 100) for u, m in UnitStat.select(UnitStat.org_unit, UnitStat.month)
            .where(UnitStat.metric == stats.READY).tuples()}


def assert_matches_records(step):
    """Every computed cell equals a recomputation from the records."""
    kept, cells = snapshot(), ready_cells()
    assert cells, step
    for unit_id, cell in sorted(cells):
        stats.fill(unit_id, cell, force=True)
    fresh = snapshot()
    for part, name in zip(range(3), ("unit figures", "stays", "firm contributions")):
        assert kept[part] == fresh[part], f"{step}: {name} differ from the records"
    assert ready_cells() == cells


@pytest.fixture
def town(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    root = make.root()
    a = make.org("甲镇总工会", parent=root)
    s = make.org("甲镇服务站", "station", parent=a)
    b = make.org("乙镇总工会", parent=root)
    admin = make.user("admin", org=root)
    firms = {name: make.enterprise(org=org, name=name, user=admin)
             for name, org in (("甲一", a), ("甲二", a), ("站一", s), ("乙一", b))}
    units = [root.id, a.id, s.id, b.id]
    # Every cell read once: from here on the writes keep them.
    stats_queries.present(units)
    stats_queries.sums(units, 202501, 202612)
    return {"root": root, "a": a, "s": s, "b": b, "admin": admin, "units": units, **firms}


def visit_data(day, who):
    return {"visited_on": day, "kind": "door", "purposes": ["founding"], "summary": "走访宣传",
            "visitor_ids": [who.id]}


def test_every_kind_of_write_keeps_the_aggregates_equal_to_the_records(app, town):
    admin, firm = town["admin"], town["甲一"]
    steps = []

    def step(name):
        steps.append(name)
        assert_matches_records(name)

    visit, _ = visits.create_visit(firm, visit_data(date(2026, 11, 20), admin), admin, key(), {admin.id})
    assert Enterprise.get_by_id(firm.id).stage == "contacted"  # the first contact moved it on the track
    step("a visit (and the founding move it made)")
    visit = visits.update_visit(Visit.get_by_id(visit.id), visit_data(date(2025, 12, 30), admin), admin, visit.version,
                                 {admin.id})
    step("its day moved to last year")
    visit = visits.set_archived(visit, admin, True, "录错了")
    step("archived")
    visits.set_archived(visit, admin, False)
    step("restored")

    data = {"kind": "enterprise", "level": "routine", "format": "face", "org_unit": town["s"].id,
            "held_on": date(2026, 11, 2), "summary": "沟通会", "attendees": 12, "cards": 3,
            "enterprise_ids": [town["站一"].id, town["乙一"].id], "new_members": {"courier": 4, "rider": 2}}
    meeting, _ = meetings.create_meeting(data, admin, key())
    step("a meeting with firms of two towns taking part")
    meeting = meetings.update_meeting(meeting, {**data, "held_on": date(2026, 10, 1), "kind": "staff",
                                                "enterprise_ids": [town["站一"].id], "new_members": {"courier": 1}},
                                      admin, meeting.version)
    step("its day, kind, new members and firms changed")
    meetings.set_archived(meeting, admin, True, "重复录入")
    step("archived")

    create_training({"title": "安全培训", "category": "quality", "held_on": date(2026, 9, 1), "org_unit": town["a"].id,
                     "participants": 30, "summary": "培训"}, admin, key())
    create_activity({"title": "义诊", "held_on": date(2026, 8, 1), "org_unit": town["b"].id, "participants": 20,
                     "new_members": 5, "summary": "服务"}, admin, key())
    step("a training and a service activity")
    with app.test_request_context():
        fair, _ = create_activity({"title": "骑手服务日", "held_on": TODAY, "org_unit": town["a"].id,
                                   "participants": 4, "new_members": 1, "signup_open": True, "capacity": 1},
                                  admin, key())
        token = member_links.token_for("activity", fair)
        first, second = (member_services.sign_up(token, {"name": "骑手", "phone": f"1390000000{n}", "group": "rider",
                                                         "platform": "meituan", "consent": "y"}, f"10.0.0.{n}").signup
                         for n in (1, 2))
        member_services.check_in(first.id, admin)
        member_services.check_in(second.id, admin)  # from the waiting list
    step("two check-ins at a service activity (one from its waiting list)")
    with app.test_request_context():
        member_services.check_in(first.id, admin, present=False)
        member_services.cancel(first.id, admin)
    step("a check-in undone and that sign-up cancelled")

    ent = Enterprise.get_by_id(town["站一"].id)
    founding.move(ent, "willing", admin, expected_from=ent.stage, occurred_on=date(2026, 11, 10), note="有意向")
    ent = Enterprise.get_by_id(ent.id)
    founding.move(ent, "approved", admin, expected_from="willing", occurred_on=date(2026, 11, 20), note="已批复",
                  union={"union_founded_on": date(2026, 11, 20)})
    step("founding moves up to 上级已批复 (a union founded)")

    ent = Enterprise.get_by_id(ent.id)
    ent_services.update_enterprise(ent.id, {"org_unit": town["b"].id, "is_key": True, "employees": 40}, admin,
                                   ent.version)
    step("the firm moved to another town and made a key firm")
    ent = Enterprise.get_by_id(ent.id)
    ent_services.update_enterprise(ent.id, {"status": "deregistered"}, admin, ent.version)
    step("deregistered")
    ent_services.set_archived(Enterprise.get_by_id(firm.id), admin, True, "重复建档")
    step("a file archived")
    ent_services.set_archived(Enterprise.get_by_id(firm.id), admin, False)
    step("and restored")
    ent_services.create_enterprise({"name": "补录企业", "org_unit": town["a"].id, "union_founded_on": date(2025, 6, 1)},
                                   admin, initial_stage="approved", initial_stage_on=date(2025, 3, 1))
    step("a back-filled file (filed and founded last year)")
    assert len(steps) == 16


def test_many_firms_at_once_recompute_their_units(app, town, monkeypatch):
    """An import changes thousands of files in one transaction: their units' cells are recomputed."""
    monkeypatch.setattr(stats, "BULK", 1)
    admin = town["admin"]
    with db.atomic(), signals.batch():
        for name in ("甲一", "乙一"):
            ent = Enterprise.get_by_id(town[name].id)
            ent_services.update_enterprise(ent.id, {"is_key": True, "employees": 80}, admin, ent.version)
    assert_matches_records("two files changed in one deferred transaction")
    assert stats_queries.present([town["a"].id, town["b"].id])["key"] == 2


def test_a_new_visit_shows_on_the_dashboard_at_once(app, town):
    a = town["a"]
    period = dashboard.period_of("month", TODAY)
    before = dashboard.figures(a, period, TODAY)
    assert (before.visits, before.contacted_year, before.never) == (0, 0, 3)
    admin = town["admin"]
    visits.create_visit(town["站一"], visit_data(TODAY, admin), admin, key(), {admin.id})
    after = dashboard.figures(a, period, TODAY)
    assert (after.visits, after.contacted_year, after.never) == (1, 1, 2)
    assert after.by_stage == {"not_contacted": 2, "contacted": 1}
    assert dashboard.trends(a, TODAY)["visits"][-1] == ("2026-11", 1)


def test_cells_never_computed_are_filled_when_read(app, make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    unit = make.org("丙镇总工会", parent=make.root())
    admin = make.user("admin", org=unit)
    firm = make.enterprise(org=unit, user=admin)
    visits.create_visit(firm, visit_data(date(2026, 3, 3), admin), admin, key(), {admin.id})
    assert not ready_cells()  # nothing read yet: writes had nothing to keep
    assert stats_queries.sums([unit.id], 202603, 202603)["visits"] == 1
    assert stats_queries.sums([unit.id], 202701, 202701)["visits"] == 0  # a new year: filled empty
    assert (unit.id, 2026) in ready_cells() and (unit.id, 2027) in ready_cells()
    assert_matches_records("after the fill")


def test_a_scope_of_many_units_reads_the_same_figures_from_the_group_index(app, town, monkeypatch):
    """A scope of more than MANY_UNITS units (the district's) is grouped straight from
    the covering indexes (month, metric, org_unit, value) and (stage, days, org_unit, count), the
    unit checked on each entry; a few units read by the primary key. Same figures either way."""
    admin = town["admin"]
    visits.create_visit(town["甲一"], visit_data(date(2026, 10, 9), admin), admin, key(), {admin.id})
    founding.move(town["甲二"], "willing", admin, expected_from=town["甲二"].stage, occurred_on=date(2026, 9, 1),
                  note="有意向")
    units = town["units"]

    def read():
        with statements() as seen:
            out = (stats_queries.present(units), stats_queries.sums(units, 202601, 202612),
                   stats_queries.by_month(units, 202601, 202612), stats_queries.median_days(units))
        return out, seen

    monkeypatch.setattr(stats_queries, "MANY_UNITS", len(units))  # not more: few
    few, few_sql = read()
    monkeypatch.setattr(stats_queries, "MANY_UNITS", len(units) - 1)  # more: many
    many, many_sql = read()
    assert many == few and few[1]["visits"] == 1 and few[0]["files"] == 4
    if is_sqlite():
        def plans(seen):
            return " | ".join(row[3] for sql, params in seen if "_stat" in sql or "stage_stay" in sql
                              for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        used = plans(many_sql)
        for index in ("unitstat_month_metric_org_unit_id_value", "stagestay_stage_days_org_unit_id_count"):
            assert index in used
        assert "stagestay_stage_days_org_unit_id_count" not in plans(few_sql)
        # The trends (by month and metric) and the medians are grouped in index order, unsorted.
        grouped_in_order = [(sql, params) for sql, params in many_sql
                            if 'GROUP BY "t1"."month", "t1"."metric"' in sql or "stage_stay" in sql]
        assert len(grouped_in_order) == 2 and "TEMP B-TREE" not in plans(grouped_in_order)


def test_writers_at_once_leave_the_aggregates_right(app, town):
    """Four threads log visits on the same town's files at the same time (PostgreSQL: row and
    advisory locks; SQLite: one writer at a time)."""
    admin = town["admin"]
    firms = [town["甲一"], town["甲二"]]
    errors = []

    def work(n):
        try:
            with app.app_context():
                db.connect(reuse_if_open=True)
                for i in range(5):
                    firm = firms[(n + i) % 2]
                    visits.create_visit(firm, visit_data(date(2026, 11, 1 + n * 5 + i), admin), admin,
                                        f"stats-thread-{n}-{i}-key-padding", {admin.id})
                db.close()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Visit.select().count() == 20
    assert stats_queries.sums([town["a"].id], 202611, 202611)["visits"] == 20
    assert_matches_records("after concurrent writers")

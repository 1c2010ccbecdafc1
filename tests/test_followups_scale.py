"""The follow-up pages at district scale: a fixed number of SQL statements per page
whatever the data, suggestion counts capped ("99+") while the lists stay complete and scoped, the
home page's 我的任务 showing the first tasks of each group with the group's count, the board's
figures from its two grouped queries, and (SQLite) no page reading a big table from end to end."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from crm.common import timeutil
from crm.db import db, is_sqlite
from crm.enterprises.models import Enterprise
from crm.followups import queries, suggestions
from crm.followups.models import FollowUp
from crm.needs.models import Need
from tests.conftest import login_as, statements

TODAY = date(2026, 11, 24)  # a Tuesday; the week ends on Sunday the 29th
BIG_TABLES = {"enterprise", "visit", "visit_visitor", "follow_up", "need", "record_change", "founding_event"}


@pytest.fixture
def town(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    unit = make.org("甲镇总工会")
    station = make.org("甲一站", "station", parent=unit)
    other = make.org("乙镇总工会")
    return {"unit": unit, "station": station, "other": other,
            "sup": make.user("supervisor", org=unit, username="sup", name="主管甲"),
            "staff": make.user("staff", org=unit, username="zhang", name="张三"),
            "li": make.user("staff", org=station, username="li", name="李四"),
            "wang": make.user("staff", org=other, username="wang", name="王五"),
            "admin": make.user("admin", username="admin", name="管理员")}


def task(town, ent, assignee, due, status="open", completed_on=None, title="走访"):
    done = status in ("done", "cancelled")
    completed_on = completed_on or (TODAY if done else None)
    return FollowUp.create(title=title, org_unit=ent.org_unit_id, enterprise=ent, assignee=assignee,
                           assigned_by=town["sup"], due_on=due, status=status, completed_on=completed_on,
                           completed_at=datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc) if done else None)


def grow(make, town, n, tag):
    """n more files in each unit without a task — never contacted, not for a long time, stalled,
    a term ending — each with an old open need; and n with tasks in every state."""
    for unit, people in ((town["unit"], (town["staff"], town["sup"])), (town["station"], (town["li"],)),
                         (town["other"], (town["wang"],))):
        for i in range(n):
            ent = make.enterprise(org=unit, name=f"{tag}{unit.name}{i}号公司", is_key=i % 2 == 0)
            values = [{}, {"last_contact_on": TODAY - timedelta(days=200)},
                      {"stage": "willing", "stage_since": TODAY - timedelta(days=100),
                       "last_contact_on": TODAY - timedelta(days=5)},
                      {"stage": "registered", "union_term_end": TODAY + timedelta(days=30),
                       "last_contact_on": TODAY - timedelta(days=5)}][i % 4]
            if values:
                Enterprise.update(**values).where(Enterprise.id == ent.id).execute()
            Need.create(org_unit=unit, enterprise=ent, category="legal", detail=f"{tag}需求{i}",
                        raised_on=TODAY - timedelta(days=45))
            worked = make.enterprise(org=unit, name=f"{tag}{unit.name}{i}号工厂")
            person = people[i % len(people)]
            for due, status in ((TODAY - timedelta(days=3), "open"), (TODAY, "in_progress"),
                                (TODAY + timedelta(days=2), "open"), (TODAY + timedelta(days=20), "open"),
                                (TODAY - timedelta(days=40), "done"), (TODAY - timedelta(days=10), "cancelled")):
                task(town, worked, person, due, status)


PAGES = [("staff", "/"), ("sup", "/"), ("admin", "/"), ("staff", "/followups/"), ("sup", "/followups/"),
         ("admin", "/followups/"), ("sup", "/followups/suggestions"), ("admin", "/followups/suggestions"),
         ("sup", "/followups/suggestions?rule=need"), ("admin", "/followups/?status=done"),
         ("sup", "/followups/?status=all")]


def page_statements(app, town):
    out = {}
    for who, path in PAGES:
        client = login_as(app.test_client(), town[who])
        assert client.get(path).status_code == 200  # the first reader may fill the aggregates
        with statements() as seen:
            assert client.get(path).status_code == 200
        out[(who, path)] = seen
    return out


def test_each_page_runs_the_same_statements_whatever_the_data(app, make, town):
    grow(make, town, 4, "甲")
    small = {page: len(seen) for page, seen in page_statements(app, town).items()}
    grow(make, town, 24, "乙")
    large = {page: len(seen) for page, seen in page_statements(app, town).items()}
    assert large == small
    assert max(small.values()) <= 25


def test_sqlite_reads_no_big_table_from_end_to_end(app, make, town):
    """Without table statistics SQLite picks indexes by their shape: the queries are written so
    that each reads the index of its own condition (partial indexes of the open tasks, the date
    of the rule...), never the whole table."""
    if not is_sqlite():
        pytest.skip("query plans are SQLite's")
    grow(make, town, 2, "甲")
    for page, seen in page_statements(app, town).items():
        for sql, params in seen:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            aliases = dict((alias, table) for table, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql))
            plan = [row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            for line in plan:
                full = re.fullmatch(r"SCAN (\w+)", line)
                assert not (full and aliases.get(full.group(1), full.group(1)) in BIG_TABLES), (page, sql, plan)
    # The follow-up pages use the partial indexes of the open and done tasks.
    used = " ".join(row[3] for (who, path), seen in page_statements(app, town).items()
                    for sql, params in seen if "follow_up" in sql
                    for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    for index in ("followup_open_assignee", "followup_open_due", "followup_done_on"):
        assert index in used


def test_suggestion_counts_stop_at_the_cap_and_the_list_stays_complete(app, make, town, monkeypatch):
    mine = [make.enterprise(org=town["unit"], name=f"从未联系{i}号") for i in range(4)]
    make.enterprise(org=town["station"], name="站里从未联系")
    make.enterprise(org=town["other"], name="乙镇从未联系")
    assert suggestions.counts(town["sup"])["never"] == 5  # under the cap: exact
    monkeypatch.setattr(suggestions, "COUNT_CAP", 3)
    assert suggestions.counts(town["sup"])["never"] == 4  # "more than 3"
    assert suggestions.counts(town["sup"], cap=10)["never"] == 5
    assert suggestions.counts(town["wang"])["never"] == 1
    assert suggestions.counts(town["admin"])["never"] == 4
    assert [suggestions.count_label(n) for n in (0, 3, 4, 250)] == ["0", "3", "3+", "3+"]
    client = login_as(app.test_client(), town["sup"])
    html = client.get("/followups/suggestions?rule=never").get_data(as_text=True)
    assert re.search(r"从未联系 <span class=\"badge[^\"]*\">3\+</span>", html)
    # The list has every one of them (and only the subtree's).
    names = {e.name for e in mine} | {"站里从未联系"}
    assert all(name in html for name in names) and "乙镇从未联系" not in html
    items, has_next = suggestions.page(town["sup"], "never")
    assert {s.enterprise.name for s in items} == names and not has_next
    # The supervisor's home page shows the capped count too.
    home = client.get("/").get_data(as_text=True)
    assert re.search(r"从未联系 <span class=\"badge[^\"]*\">3\+</span>", home)


def test_the_term_rule_reads_by_term_end_within_the_scope(make, town):
    near = make.enterprise(org=town["station"], name="站里换届")
    Enterprise.update(stage="registered", union_term_end=TODAY + timedelta(days=10)).where(
        Enterprise.id == near.id).execute()
    far = make.enterprise(org=town["other"], name="乙镇换届")
    Enterprise.update(stage="registered", union_term_end=TODAY + timedelta(days=10)).where(
        Enterprise.id == far.id).execute()
    assert [s.enterprise.name for s in suggestions.page(town["sup"], "term")[0]] == ["站里换届"]
    assert suggestions.counts(town["sup"])["term"] == 1
    assert suggestions.counts(town["sup"], unit_ids=[town["other"].id])["term"] == 0
    assert suggestions.counts(town["admin"])["term"] == 2


def test_a_long_rule_in_a_big_scope_is_read_along_its_date(app, make, town, monkeypatch):
    """久未联系 and 建会停滞 past the cap in a scope of many files are read along the index of the
    rule's date (the scope checked on each row); the page is the same as when read by the scope."""
    grow(make, town, 8, "甲")
    for rule in suggestions.WALK_RULES:
        monkeypatch.setattr(suggestions, "WALK_FILES", 10**9)  # the scope is small: by the scope
        monkeypatch.setattr(suggestions, "COUNT_CAP", 1)
        with statements() as by_scope:
            assert suggestions.counts(town["sup"])[rule] == 2  # past the cap
            first, more = suggestions.page(town["sup"], rule, size=3, count=2)
        monkeypatch.setattr(suggestions, "WALK_FILES", 1)  # a big scope: along the date
        with statements() as walked:
            again, more_again = suggestions.page(town["sup"], rule, size=3, count=2)
        assert [s.key for s in again] == [s.key for s in first] and more_again == more and more
        assert suggestions.page(town["sup"], rule, size=3, count=1)[0] == first  # under the cap
        assert [s.key for s in suggestions.page(town["sup"], rule, page_no=2, size=3, count=2)[0]] == \
            [s.key for s in suggestions.page(town["sup"], rule, page_no=2, size=3)[0]]
        if is_sqlite():
            def plan(seen):
                sql, params = [(q, p) for q, p in seen if 'ORDER BY "t1"' in q][-1]
                return " ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
            date_index = {"stale": "enterprise_last_contact_on_archived", "stalled": "enterprise_stage_since"}[rule]
            assert date_index in plan(walked) and "enterprise_org_unit_id" not in plan(walked)
            assert date_index not in plan(by_scope)


def test_home_shows_the_first_tasks_of_each_group_and_links_to_the_rest(app, make, town):
    ent = make.enterprise(org=town["unit"], name="甲镇物流有限公司")
    for i in range(13):
        task(town, ent, town["staff"], TODAY - timedelta(days=i + 1), title=f"逾期任务{i:02d}")
    task(town, ent, town["staff"], TODAY, title="今天的任务")
    task(town, ent, town["staff"], TODAY, status="in_progress", title="今天进行中")
    task(town, ent, town["staff"], TODAY + timedelta(days=30), status="done", title="已办完")
    task(town, ent, town["sup"], TODAY, title="主管的任务")
    html = login_as(app.test_client(), town["staff"]).get("/").get_data(as_text=True)
    assert "15 条未完成" in html
    overdue = html.split('data-group="overdue"')[1].split('data-group="today"')[0]
    assert overdue.count("data-task=") == 10
    assert ">13</span>" in overdue  # the group's count, not the shown ones
    # The 10 most overdue first; the rest behind a link to the list.
    assert "逾期任务12" in overdue and "逾期任务03" in overdue and "逾期任务02" not in overdue
    assert f"/followups/?assignee={town['staff'].id}&amp;due=overdue" in overdue and "还有 3 条" in overdue
    today = html.split('data-group="today"')[1].split("</section>")[0]
    assert today.count("data-task=") == 2 and "还有" not in today
    assert "已办完" not in html and "主管的任务" not in html


def test_groups_and_their_counts_agree_with_the_full_list(make, town):
    ent = make.enterprise(org=town["unit"])
    moved = make.enterprise(org=town["other"])
    for days, status in ((-9, "open"), (-1, "in_progress"), (0, "open"), (0, "open"), (1, "open"), (5, "open"),
                         (6, "open"), (30, "in_progress"), (-2, "done"), (3, "cancelled")):
        task(town, ent, town["staff"], TODAY + timedelta(days=days), status)
    task(town, moved, town["staff"], TODAY, "open")  # out of scope: waits on 乙镇's board
    full = queries.my_buckets(town["staff"], TODAY)
    counts = queries.bucket_counts(town["staff"], TODAY)
    assert counts == {key: len(rows) for key, rows in full.items()} == {"overdue": 2, "today": 2, "week": 2,
                                                                        "later": 2}
    assert queries.nav_counts(town["staff"], TODAY) == (8, 2)
    for n in (1, 2, 5):
        firsts = queries.my_buckets(town["staff"], TODAY, per_bucket=n)
        assert {key: [f.id for f in rows] for key, rows in firsts.items()} == \
            {key: [f.id for f in rows[:n]] for key, rows in full.items()}


def test_board_counts_open_work_and_this_months_done(make, town):
    ent = make.enterprise(org=town["unit"])
    station = make.enterprise(org=town["station"])
    other = make.enterprise(org=town["other"])
    rows = [(ent, "staff", TODAY - timedelta(days=1), "open", None), (ent, "staff", TODAY, "in_progress", None),
            (ent, "staff", date(2026, 11, 29), "open", None), (ent, "staff", date(2026, 11, 30), "open", None),
            (ent, "staff", TODAY, "done", date(2026, 11, 1)), (ent, "staff", TODAY, "done", date(2026, 10, 31)),
            (ent, "staff", TODAY, "cancelled", TODAY), (station, "li", TODAY - timedelta(days=5), "open", None),
            (station, "li", TODAY, "done", TODAY), (other, "wang", TODAY, "open", None),
            (other, "staff", TODAY - timedelta(days=2), "open", None)]
    for firm, who, due, status, completed in rows:
        task(town, firm, town[who], due, status, completed)

    def figures(board):
        return {r.user.username: (r.open, r.week, r.overdue, r.done_month) for r in board}

    sup = figures(queries.board(town["sup"], TODAY))
    assert sup == {"sup": (0, 0, 0, 0), "zhang": (4, 2, 1, 1), "li": (1, 0, 1, 1)}
    station_only = figures(queries.board(town["sup"], TODAY, unit_ids=[town["station"].id]))
    assert station_only == {"li": (1, 0, 1, 1)}
    everyone = figures(queries.board(town["admin"], TODAY))
    assert everyone["zhang"] == (5, 2, 2, 1) and everyone["wang"] == (1, 1, 0, 0)


def test_home_finds_the_latest_visits_as_the_full_read_does(app, make, town, monkeypatch):
    """The home page looks for a user's latest visits among the district's latest first, and reads
    all of theirs when too few are there: the list is the same either way."""
    from crm.fieldwork.recent import recent_work as full_read
    from crm.home import queries as home
    from crm.visits.models import Visit, VisitVisitor
    mine = make.enterprise(org=town["unit"], name="甲镇走访企业")
    away = make.enterprise(org=town["other"], name="乙镇走访企业")

    def visit(ent, day, *people, archived=False):
        v = Visit.create(enterprise=ent, visited_on=TODAY - timedelta(days=day), kind="door", summary="走访",
                         archived=archived, created_by=people[0])
        for person in people:
            VisitVisitor.create(visit=v, user=person)
        return v

    for day in range(30, 42):  # the staff member's own, a month ago
        visit(mine, day, town["staff"])
    visit(mine, 1, town["staff"], archived=True)
    visit(away, 2, town["staff"])  # out of the staff member's scope now
    for i in range(10):  # the district's latest are someone else's
        visit(away, i // 2, town["wang"])
    together = visit(mine, 3, town["sup"], town["staff"])  # the staff member's latest in scope
    for window in (3, 8, 40, 1000):
        monkeypatch.setattr(home, "LATEST_VISITS", window)
        for who in ("staff", "sup", "wang", "admin"):
            assert home.recent_work(town[who]) == full_read(town[who]), (window, who)
    monkeypatch.setattr(home, "LATEST_VISITS", 12)
    with statements() as seen:
        home.recent_work(town["wang"])  # his 8 latest are among the district's 12 latest
    assert len(seen) == 4  # visits (one read), meetings, trainings, activities
    latest = home.recent_work(town["staff"])
    assert latest[0][4] == together.id
    assert len([r for r in latest if r[1] == "走访"]) == 8


def test_home_figures_come_from_the_aggregates_and_match_the_files(app, make, town):
    from crm.enterprises import queries as enterprise_queries
    from crm.enterprises.services import set_archived
    from crm.founding.services import move
    from crm.home import queries as home
    firms = [make.enterprise(org=unit, initial_stage=stage)
             for unit, stage in ((town["unit"], "not_contacted"), (town["unit"], "willing"),
                                 (town["station"], "registered"), (town["station"], "preparing"),
                                 (town["other"], "registered"))]
    for who in ("sup", "staff", "wang", "admin"):
        client = login_as(app.test_client(), town[who])
        assert client.get("/").status_code == 200  # the aggregates are filled by the first reader
    move(firms[0], "contacted", town["sup"], expected_from="not_contacted")
    set_archived(firms[3], town["sup"], True, "企业已注销")
    make.enterprise(org=town["station"], initial_stage="elected")
    for who in ("sup", "staff", "wang", "admin"):
        exact = enterprise_queries.scope_summary(town[who])
        summary = home.scope_summary(town[who])
        assert (summary["total"], summary["by_status"]) == (exact["total"], exact["by_status"])
        assert summary["by_stage"] == {k: n for k, n in exact["by_stage"].items() if n}
    html = login_as(app.test_client(), town["sup"]).get("/").get_data(as_text=True)
    assert re.search(r"在档企业</div><div class=\"fs-2 fw-bold\">4</div>", html)

"""`crm worker`'s periodic work, on the SQLite queue and on Redis: webhook deliveries every minute
and right after the request that queued them, the purge every hour, the overdue/digest sweep
every ten minutes. Two workers running the same work at once on the same rows deliver each
webhook once and make each digest once (the rows are claimed with UPDATE … WHERE; on PostgreSQL
too when the suite runs there)."""
import threading
from datetime import datetime, timedelta

from crm.common.timeutil import utcnow
from crm.db import db
from crm.followups.models import FollowUp
from crm.webhooks import services as webhooks
from crm.webhooks.models import WebhookDelivery
from tests.conftest import login_as, post_form
from tests.test_jobs import app, backend, queue, queue_name  # noqa: F401 (fixtures)
from tests.test_notifications import TODAY, give, notes, team  # noqa: F401 (a fixture)
from tests.test_webhooks import endpoint, receiver, rows, world  # noqa: F401 (fixtures)


def _due_at(app, when):  # noqa: F811
    return sorted(t.name for t in queue(app).huey.read_periodic(when))


def test_the_schedules(app):  # noqa: F811
    queue(app).huey  # (made, with its tasks)
    assert {"webhooks_deliver", "webhooks_purge", "notifications_sweep"} <= set(queue(app).periodic)
    assert _due_at(app, datetime(2026, 12, 3, 8, 1)) == ["sweep_jobs", "webhooks_deliver"]
    assert _due_at(app, datetime(2026, 12, 3, 8, 10)) == ["notifications_sweep", "sweep_jobs", "webhooks_deliver"]
    assert _due_at(app, datetime(2026, 12, 3, 8, 17)) == ["sweep_jobs", "webhooks_deliver", "webhooks_purge"]


def test_a_request_that_queues_a_delivery_has_a_worker_send_it_at_once(app, world, receiver):  # noqa: F811
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    client = login_as(app.test_client(), world["admin"])
    huey = queue(app).huey
    assert huey.pending_count() == 0
    resp = post_form(client, f"/admin/webhooks/{hook.id}/test", {}, token_from=f"/admin/webhooks/{hook.id}")
    assert resp.status_code == 302
    with app.app_context():
        assert [r.status for r in rows("ping")] == ["pending"]  # the request sent nothing itself
    assert huey.pending_count() == 1  # … it woke a worker
    assert client.get(f"/admin/webhooks/{hook.id}").status_code == 200 and huey.pending_count() == 1  # a read: no
    assert queue(app).drain() == 1
    assert receiver.arrived.wait(30) and len(receiver.received) == 1
    with app.app_context():
        assert [r.status for r in rows("ping")] == ["delivered"]


def _two_workers_at_once(app, key):  # noqa: F811
    """Two wake-up calls of the periodic work `key`, run by two worker threads released together:
    the exceptions they raised."""
    huey = queue(app).huey
    for _ in range(2):
        queue(app).poke(key)  # two wake-up calls: two workers take one each
    tasks = [huey.dequeue(), huey.dequeue()]
    start, errors = threading.Barrier(2), []

    def worker(task):
        try:
            start.wait()
            huey.execute(task)
        except Exception as exc:  # reported by the caller
            errors.append(exc)
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_two_workers_running_the_deliveries_at_once_send_each_once(app, world, receiver):  # noqa: F811
    hooks = [endpoint(app, world["admin"], world["town"], receiver.url)[0] for _ in range(2)]
    with app.app_context():
        for _ in range(10):
            for hook in hooks:
                webhooks.send_test(world["admin"], hook)
        queued = {r.event_id for r in rows()}
    assert len(queued) == 20
    assert _two_workers_at_once(app, webhooks.DELIVER) == []
    sent = [r["headers"]["X-CRM-Delivery"] for r in receiver.received]
    assert sorted(sent) == sorted(queued)  # every one, none twice
    with app.app_context():
        assert {r.status for r in rows()} == {"delivered"} and {r.attempts for r in rows()} == {1}


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_ends(app, world, receiver):  # noqa: F811
    hook, _ = endpoint(app, world["admin"], world["town"], receiver.url)
    with app.app_context():
        delivery = webhooks.send_test(world["admin"], hook)
        now = utcnow()
        assert webhooks._claim(delivery.id, now)  # one UPDATE … WHERE, its row count checked
        assert webhooks._claim(delivery.id, now) is None
        assert webhooks.deliver_due(now) == 0  # a round finds it taken
        assert webhooks._claim(delivery.id, now + webhooks.LEASE + timedelta(seconds=1))  # a dead sender's
        assert WebhookDelivery.get_by_id(delivery.id).status == "pending"


def test_two_workers_sweeping_at_once_notify_once(app, make, team):  # noqa: F811
    late = give(make, team, team["zhang"])
    FollowUp.update(due_on=TODAY - timedelta(days=1)).where(FollowUp.id == late.id).execute()
    assert _two_workers_at_once(app, "notifications_sweep") == []
    with app.app_context():
        assert len(notes(team["zhang"], "overdue")) == 1 and len(notes(team["sup"], "digest")) == 1
    queue(app).poke("notifications_sweep")
    queue(app).drain()  # and again later: nothing new
    with app.app_context():
        assert len(notes(team["zhang"], "overdue")) == 1 and len(notes(team["sup"], "digest")) == 1

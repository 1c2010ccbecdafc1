"""The connection pool (crm/db.py): requests reuse connections; nothing a request leaves behind
reaches the next one; workers get none of the master's."""
from crm.auth.models import User
from crm.db import db, release


def pool():
    return db.obj


def test_requests_reuse_one_connection(app, client):
    release()
    assert client.get("/login").status_code == 200
    idle = [conn for _, _, conn in pool()._connections]
    assert len(idle) == 1 and not pool()._in_use  # back in the pool after the request
    assert client.get("/login").status_code == 200
    assert [conn for _, _, conn in pool()._connections] == idle  # the same one again


def test_a_transaction_left_open_is_rolled_back_when_its_connection_returns(app, make):
    with app.app_context():
        make.user("admin", username="kept")
        db.connect(reuse_if_open=True)
        conn = db.connection()
        db.execute_sql("BEGIN")
        User.update(name="改过").where(User.username == "kept").execute()
        db.close()  # returned with the transaction open (a request that failed half-way)
        db.connect()
        assert db.connection() is conn and not db.in_transaction()
        assert User.get(User.username == "kept").name != "改过"
        db.close()


def test_release_closes_every_idle_connection(app, client):
    assert client.get("/login").status_code == 200
    assert pool()._connections
    release()  # what `crm serve` does before gunicorn forks its workers
    assert not pool()._connections and not pool()._in_use and db.is_closed()


def test_a_connection_returned_by_one_thread_serves_another(app, client):
    """gunicorn's threads share the pool: a connection opened by one request's thread is taken by
    the next request's, whichever thread it runs on."""
    import threading
    release()
    assert client.get("/login").status_code == 200
    opened = [conn for _, _, conn in pool()._connections]
    statuses = []
    worker = threading.Thread(target=lambda: statuses.append(app.test_client().get("/login").status_code))
    worker.start()
    worker.join()
    assert statuses == [200] and [conn for _, _, conn in pool()._connections] == opened

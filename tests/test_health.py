"""/healthz and /readyz for a load balancer; request ids on every answer and in every log line;
JSON log lines (CRM_LOG_JSON=1)."""
import io
import json
import logging
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from config import TestConfig
from crm import create_app
from crm.common.log import JsonFormatter, TextFormatter
from crm.web import health
from tests.conftest import login_as

GOOD_ID = "nginx-7f3a9c2e1b4d"
NEW_ID = re.compile(r"[0-9a-f]{32}")


def _no_cookie_never_cached(resp):
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Cache-Control"] == "no-store"


def _broken_database_app(tmp_path, url):
    """An app whose database cannot be opened (its own: it binds the database proxy)."""
    environ = {"CRM_DATABASE_URL": url, "CRM_INSTANCE_DIR": str(tmp_path / "instance"),
               "CRM_UPLOAD_DIR": str(tmp_path / "uploads")}
    return create_app(TestConfig(environ))


# ---- /healthz, /readyz -------------------------------------------------------------------------

def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    _no_cookie_never_cached(resp)


def test_healthz_and_readyz_set_no_cookie_for_a_signed_in_browser(client, make):
    login_as(client, make.user("staff"))
    assert "Set-Cookie" in client.get("/").headers  # (a page refreshes the session's cookie)
    for path in ("/healthz", "/readyz"):
        resp = client.get(path)
        assert resp.status_code == 200
        _no_cookie_never_cached(resp)


def test_readyz_ok(client, app):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok", "queue": "ok"}}
    _no_cookie_never_cached(resp)
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []  # its test file is gone


@pytest.mark.parametrize("url", ["sqlite:///{tmp}", "postgresql://postgres@127.0.0.1:1/none"],
                         ids=["sqlite-a-directory", "postgresql-closed-port"])
def test_readyz_503_when_the_database_is_unreachable_and_healthz_still_ok(tmp_path, url, caplog):
    app = _broken_database_app(tmp_path, url.format(tmp=tmp_path))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process is up: no database access
    with caplog.at_level(logging.WARNING, logger="crm.health"):
        resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "failed", "storage": "ok", "queue": "ok"}
    assert body["reasons"] == {"database": "OperationalError"}  # a class name: no host, path or trace
    _no_cookie_never_cached(resp)
    assert "readiness check database failed" in caplog.text  # the traceback goes to the log


def test_readyz_503_when_storage_is_not_writable(client, app, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for folder, reason in ((a_file, "不是目录"), (a_file / "uploads", "目录不存在且无法创建")):
        app.config["UPLOAD_DIR"] = str(folder)
        resp = client.get("/readyz")
        assert resp.status_code == 503
        body = resp.get_json()
        assert body["checks"] == {"database": "ok", "storage": "failed", "queue": "ok"}
        assert body["reasons"] == {"storage": reason}
        assert str(tmp_path) not in resp.get_data(as_text=True)


def test_readyz_makes_a_missing_upload_directory_as_the_first_upload_would(client, app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "new" / "uploads")
    assert client.get("/readyz").status_code == 200
    assert (tmp_path / "new" / "uploads").is_dir()


def test_a_feature_registers_its_own_check(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", list(health.CHECKS))
    health.register("queue", lambda: "无人处理")
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"] == {"database": "ok", "storage": "ok", "queue": "failed"}
    assert resp.get_json()["reasons"] == {"queue": "无人处理"}
    health.register("queue", lambda: None)  # the same name replaces it
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["checks"]["queue"] == "ok"


def test_a_check_that_raises_is_a_503_not_a_500(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", list(health.CHECKS))

    def boom():
        raise RuntimeError("secret=hunter2 at /srv/crm")
    health.register("queue", boom)
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["reasons"] == {"queue": "RuntimeError"}
    assert "hunter2" not in resp.get_data(as_text=True)


# ---- request ids -------------------------------------------------------------------------------

def test_a_sane_request_id_is_echoed(client):
    for path in ("/healthz", "/login"):
        assert client.get(path, headers={"X-Request-ID": GOOD_ID}).headers["X-Request-ID"] == GOOD_ID
    uuid = "0b6f2c1e-8f1d-4a55-9a57-5d6f3b0f9e21"
    assert client.get("/login", headers={"X-Request-ID": uuid}).headers["X-Request-ID"] == uuid


@pytest.mark.parametrize("bad", ["short", "x" * 65, "has space in it", "<script>alert(1)</script>", "id;rm -rf /",
                                 "请求编号一二三四五六"])
def test_a_bad_request_id_is_replaced(client, bad):
    sent = client.get("/login", headers={"X-Request-ID": bad.encode("utf-8").decode("latin-1")})
    assert NEW_ID.fullmatch(sent.headers["X-Request-ID"])


def test_each_request_without_one_gets_a_new_id(client):
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert NEW_ID.fullmatch(first) and NEW_ID.fullmatch(second) and first != second


def test_request_id_on_the_404_page(client):
    resp = client.get("/no-such-page", headers={"X-Request-ID": GOOD_ID})
    assert resp.status_code == 404 and resp.headers["X-Request-ID"] == GOOD_ID
    assert "请求编号：" in resp.get_data(as_text=True) and GOOD_ID in resp.get_data(as_text=True)


def test_request_id_on_the_500_page_and_in_the_logged_exception(app, caplog):
    @app.route("/_boom")
    def boom():
        raise RuntimeError("boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR, logger="crm"):
        resp = app.test_client().get("/_boom", headers={"X-Request-ID": GOOD_ID})
    assert resp.status_code == 500 and resp.headers["X-Request-ID"] == GOOD_ID
    html = resp.get_data(as_text=True)
    assert "请求编号：" in html and GOOD_ID in html
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and {r.request_id for r in logged} == {GOOD_ID}


def test_request_id_in_an_api_problem(client):
    resp = client.get("/api/v1/enterprises", headers={"X-Request-ID": GOOD_ID})
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.headers["X-Request-ID"] == GOOD_ID
    assert resp.get_json()["request_id"] == GOOD_ID
    fresh = client.get("/api/v1/enterprises")
    assert fresh.get_json()["request_id"] == fresh.headers["X-Request-ID"]


def test_log_records_of_a_request_carry_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="crm"):
        client.get("/api/v1/enterprises", headers={"X-Request-ID": GOOD_ID})  # logs the refusal
        logging.getLogger("crm.security").info("outside any request")
    inside = [r for r in caplog.records if r.getMessage().startswith("api unauthenticated")]
    assert inside and inside[0].request_id == GOOD_ID
    outside = [r for r in caplog.records if r.getMessage() == "outside any request"]
    assert outside[0].request_id == "-"


# ---- log formats ---------------------------------------------------------------------------------

def _record(**extra):
    record = logging.LogRecord("crm.security", logging.WARNING, __file__, 1, "sign-in refused for %s", ("feng",),
                               None)
    record.__dict__.update(extra)
    return record


def test_json_formatter_writes_one_parseable_object_with_the_keys():
    try:
        raise ValueError("bad value")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(_record(request_id=GOOD_ID, exc_info=exc_info))
    assert "\n" not in line
    entry = json.loads(line)
    assert {"time", "level", "logger", "message", "request_id", "exception"} <= set(entry)
    assert entry["level"] == "WARNING" and entry["logger"] == "crm.security"
    assert entry["message"] == "sign-in refused for feng" and entry["request_id"] == GOOD_ID
    assert "ValueError: bad value" in entry["exception"]
    moment = datetime.fromisoformat(entry["time"])
    assert moment.utcoffset() == timedelta(0)
    plain = json.loads(JsonFormatter().format(_record(request_id="-")))
    assert "exception" not in plain and plain["request_id"] == "-"


def test_text_formatter_keeps_the_format_and_adds_the_id():
    line = TextFormatter().format(_record(request_id=GOOD_ID))
    assert re.fullmatch(r"\[.+\] WARNING in test_health \[nginx-7f3a9c2e1b4d\]: sign-in refused for feng", line)


def test_crm_log_json_makes_the_apps_lines_json(db_url, tmp_path):
    environ = {"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / "instance"),
               "CRM_UPLOAD_DIR": str(tmp_path / "uploads"), "CRM_LOG_JSON": "1"}
    app = create_app(TestConfig(environ))
    assert app.config["LOG_JSON"] is True
    stream = io.StringIO()  # the WSGI server's error stream, where the app's lines go in a request
    app.test_client().get("/api/v1/enterprises", headers={"X-Request-ID": GOOD_ID}, errors_stream=stream)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(e["message"].startswith("api unauthenticated") and e["request_id"] == GOOD_ID
               and e["logger"] == "crm.security" for e in entries)
    create_app(TestConfig({**environ, "CRM_LOG_JSON": "0"}))  # (the handler is the process's: text again)


def test_gunicorn_lines_follow_the_setting(capsys):
    from gunicorn.config import Config as GunicornConfig

    from crm.cli.serve import ACCESS_FORMAT, gunicorn_logger

    class Response:
        status, sent, headers = "200 OK", 15, [("X-Request-ID", GOOD_ID)]

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/healthz", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "10.0.0.9"}
    for json_lines in (False, True):
        cfg = GunicornConfig()
        for key, value in {"accesslog": "-", "access_log_format": ACCESS_FORMAT}.items():
            cfg.set(key, value)
        logger = gunicorn_logger(json_lines)(cfg)
        logger.access(Response(), [], environ, timedelta(milliseconds=3))
        logger.error("worker %s timed out", 7)
        out, err = capsys.readouterr()
        if json_lines:
            access, error = json.loads(out), json.loads(err)
            assert access["logger"] == "gunicorn.access" and access["request_id"] == GOOD_ID
            assert '"GET /healthz HTTP/1.1" 200 15' in access["message"]
            assert error["logger"] == "gunicorn.error" and error["message"] == "worker 7 timed out"
        else:
            assert out.rstrip().endswith(f'"GET /healthz HTTP/1.1" 200 15 "-" "-" {GOOD_ID}')
            assert "worker 7 timed out" in err and not err.startswith("{")

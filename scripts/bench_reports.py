#!/usr/bin/env python3
"""Time the dashboard and the monthly report on the demo data (a benchmark, not a test).

    .venv/bin/python scripts/bench_reports.py [--requests 30] [--enterprises 300]

Loads the demo into a fresh SQLite database in a temporary directory (or uses CRM_DATABASE_URL
when set and already loaded), then requests each page through the app (no network) after a
warm-up, and prints p50 / p95 / max server time and the number of SQL queries per request.
"""
import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--enterprises", type=int, default=300)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="crm-bench-")
    os.environ.setdefault("CRM_DATABASE_URL", f"sqlite:///{tmp}/crm.db")
    os.environ["CRM_INSTANCE_DIR"] = tmp
    from config import Config
    from crm import create_app, schema
    from crm.db import db
    app = create_app(Config(os.environ))
    with app.app_context():
        db.connect(reuse_if_open=True)
        schema.upgrade()
        from crm import demo
        from crm.auth.models import User
        from crm.org.models import OrgUnit
        if demo.is_empty():
            started = time.perf_counter()
            demo.load_demo(enterprises=a.enterprises)
            print(f"demo loaded ({a.enterprises} enterprises) in {time.perf_counter() - started:.1f} s")
        admin = User.get(User.username == "admin")
        town = OrgUnit.get(OrgUnit.code == "yinghai")
        sessions = admin.get_id()
        db.close()

    queries = {"n": 0}

    class Count(logging.Handler):
        def emit(self, record):
            queries["n"] += 1

    logger = logging.getLogger("peewee")
    logger.addHandler(Count())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = sessions
        sess["_fresh"] = True
        sess["login_at"] = time.time()
    paths = [("dashboard, district (year)", "/dashboard/?period=year"),
             ("dashboard, 瀛海 (year)", f"/dashboard/?org={town.id}&period=year"),
             ("dashboard, district (month)", "/dashboard/?period=month"),
             ("compliance grid", "/compliance/"),
             ("monthly report page", "/reports/monthly"),
             ("monthly report xlsx", "/reports/monthly.xlsx")]
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for label, path in paths:
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        times, counts = [], []
        for _ in range(a.requests):
            queries["n"] = 0
            started = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            counts.append(queries["n"])
            assert resp.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"{label:32} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} {max(counts):8d}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time the similar-name check (可能重复的档案) on a district-scale database (a benchmark, not a test).

    .venv/bin/python scripts/bench_similar.py --database-url URL [--build] [--names 100] [--warmup 20]
        [--seed 1] [--json out.json]

URL defaults to $CRM_DATABASE_URL. The database holds the district set (`crm demo load --scale
district`), or, with --build, an empty migrated database gets the part of it the check reads: the
district's org units, its users and its 100,000 enterprises, written by the same generator
(crm/demo/district.py), without the visits and the rest.

Measured, each after --warmup unrecorded calls, with time.perf_counter():
- `similar.find(name)` (the matching: candidates from the index, similarity on them, the rows
  shown) for --names names of each kind: a file's name as it is; the same name with another
  suffix (有限公司 → 公司, 站 → 站点, 店 → 门店) or one character changed; a new name put together from
  the generator's words; a short name (a brand alone);
- the JSON endpoint the file form calls when the name field is left (GET /enterprises/similar,
  as a staff member, through Flask's test client: routing, the check, the scope, the JSON);
- `similar.find_many()` for 500 names at once (one chunk of an import's preview).
Prints p50/p95/max per kind and the candidates read per name, and writes them as JSON.
"""
import argparse
import json
import math
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(ordered, p):
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1))] if ordered else float("nan")


def build():
    """The district set's org units, users and enterprises, into an empty database."""
    from crm.common.timeutil import local_today
    from crm.db import db
    from crm.demo.district import SIZES, District
    from crm.demo.firms import is_empty
    from crm.demo.vocabulary import PLACES
    from crm.org.models import OrgUnit
    from crm.org.services import load_tree_csv
    if not is_empty():
        raise SystemExit("--build needs an empty (migrated) database")
    started = time.perf_counter()
    district = District(2026, dict(SIZES), local_today(), print)
    with db.atomic():
        load_tree_csv()
    district.units = {u.code: u for u in OrgUnit.select().order_by(OrgUnit.path)}
    district.field_units = [c for c, u in district.units.items() if u.kind != "district" and c in PLACES]
    for step in (district.users, district.enterprises):
        with db.atomic():
            step()
    print(f"built org units, users and enterprises in {time.perf_counter() - started:.1f} s")


def variant(rng, name):
    """The name as someone else might type it: another suffix, or one character changed."""
    for old, new in (("有限公司", "公司"), ("站点", "站"), ("站", "站点"), ("号店", "号门店"), ("分公司", "分店")):
        if old in name and rng.random() < 0.7:
            return name.replace(old, new, 1)
    chars = list(name)
    i = rng.randrange(2, max(3, len(chars) - 4))
    chars[i] = chr(0x4E00 + rng.randrange(0x5000))
    return "".join(chars)


def queries(rng, n):
    from crm.demo.vocabulary import BRANDS, DELIVERY, EXPRESS, TRADES
    from crm.enterprises.models import Enterprise
    total = Enterprise.select().count()
    picked = []
    for _ in range(n):
        ent_id = rng.randint(1, total)
        row = Enterprise.get_or_none(Enterprise.id == ent_id)
        picked.append(row.name if row else "北京宏达兴业科技有限公司")
    trades = [w for _, words in TRADES.values() for w in words]
    return {
        "a file's name": picked,
        "another suffix or a typo": [variant(rng, name) for name in picked],
        "a new name": [f"北京{rng.choice(BRANDS)}{rng.choice(BRANDS)}{rng.choice(trades)}有限公司" for _ in range(n)],
        "a short name": [rng.choice(BRANDS + EXPRESS + DELIVERY) for _ in range(n)],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("CRM_DATABASE_URL"), help="default: $CRM_DATABASE_URL")
    ap.add_argument("--build", action="store_true", help="write the district's units, users and enterprises first")
    ap.add_argument("--names", type=int, default=100, help="recorded names per kind (default 100)")
    ap.add_argument("--warmup", type=int, default=20, help="unrecorded calls first (default 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="where to write the results")
    a = ap.parse_args()
    if not a.database_url:
        ap.error("give --database-url or set CRM_DATABASE_URL")
    environ = dict(os.environ, CRM_DATABASE_URL=a.database_url)
    environ.setdefault("CRM_SECRET_KEY", secrets.token_hex(16))
    if not environ.get("CRM_INSTANCE_DIR"):
        environ["CRM_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="crm-bench-similar-")
    from config import Config
    from crm import create_app
    from crm.db import db, is_sqlite
    app = create_app(Config(environ))
    rng = random.Random(a.seed)
    results = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "kinds": {}}
    with app.app_context():
        db.connect(reuse_if_open=True)
        if a.build:
            build()
        from crm.auth.models import User
        from crm.enterprises import similar
        from crm.enterprises.models import Enterprise
        files = Enterprise.select().count()
        backend = "SQLite" if is_sqlite() else "PostgreSQL"
        print(f"{backend}, {files:,} files")
        results.update(backend=backend, files=files)
        names = queries(rng, a.names)
        staff = User.select().where(User.role == "staff").order_by(User.id).first()
        counted = {"candidates": 0}
        real = similar._candidates

        def counting(cores):
            out = real(cores)
            counted["candidates"] += sum(len(v) for v in out.values())
            return out
        similar._candidates = counting
        warm = [n for kind in names.values() for n in kind][: a.warmup]
        for name in warm:
            similar.find(name)
        print(f"{'kind':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'found':>6} {'cand.':>7}")

        def row(label, times, found, candidates):
            ordered = sorted(times)
            out = {"p50_ms": round(percentile(ordered, 0.5), 2), "p95_ms": round(percentile(ordered, 0.95), 2),
                   "max_ms": round(ordered[-1], 2), "n": len(times), "with_matches": found,
                   "candidates_per_name": round(candidates / max(1, len(times)), 1)}
            results["kinds"][label] = out
            print(f"{label:<36} {out['p50_ms']:>8} {out['p95_ms']:>8} {out['max_ms']:>8} {found:>6} "
                  f"{out['candidates_per_name']:>7}")

        everything = []
        for kind, batch in names.items():
            times, found = [], 0
            counted["candidates"] = 0
            for name in batch:
                t = time.perf_counter()
                matches = similar.find(name)
                times.append((time.perf_counter() - t) * 1000)
                found += bool(matches)
            everything += times
            row("find: " + kind, times, found, counted["candidates"])
        row("find: all kinds", everything, 0, 0)

        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = staff.get_id()
            sess["_fresh"] = True
            sess["login_at"] = datetime.now(timezone.utc).timestamp()
        times, found = [], 0
        for name in warm:
            client.get("/enterprises/similar", query_string={"name": name})
        for batch in names.values():
            for name in batch:
                t = time.perf_counter()
                resp = client.get("/enterprises/similar", query_string={"name": name})
                body = resp.get_json()
                times.append((time.perf_counter() - t) * 1000)
                assert resp.status_code == 200, resp.status_code
                found += bool(body["items"])
        row("GET /enterprises/similar (staff)", times, found, 0)

        chunk = [n for kind in names.values() for n in kind]
        chunk = (chunk * (500 // len(chunk) + 1))[:500]
        times = []
        for _ in range(5):
            t = time.perf_counter()
            similar.find_many(chunk, limit=3)
            times.append((time.perf_counter() - t) * 1000)
        row("find_many: 500 names (import chunk)", times, 0, 0)
        db.close()
    shutil.rmtree(environ["CRM_INSTANCE_DIR"], ignore_errors=True)
    out = a.json or os.path.join(tempfile.gettempdir(), "bench_similar.json")
    Path(out).write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()

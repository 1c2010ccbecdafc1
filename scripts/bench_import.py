#!/usr/bin/env python3
"""Import a generated enterprise ledger of N rows (default 100,000) and print the time and the peak
memory (a benchmark, not a test).

    .venv/bin/python scripts/bench_import.py [--rows 100000] [--csv]

The file is generated first in a child process (so its memory is not counted), into a temporary
directory with a fresh SQLite database and Daxing's org units; then the same jobs as the web import
run here, in this process, as `crm worker` runs them (crm.jobs.services.run): the analysis (every
row checked, the preview kept) and the import (read again, committed in one transaction). Peak
memory is the process's maximum resident set size.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNITS = ["瀛海镇总工会", "西红门镇总工会", "庞各庄镇总工会", "黄村镇总工会", "高米店街道总工会", "亦庄镇总工会"]


def generate(path: str, rows: int, as_csv: bool):
    import csv
    import random

    from crm.enterprises.creditcode import ALPHABET, check_char
    rng = random.Random(7)
    header = ["企业名称", "统一社会信用代码", "所属工会", "经营地址", "所属行业", "职工人数", "区级重点企业", "联系人", "联系电话"]

    def row(i):
        body = "91110115" + "".join(rng.choice(ALPHABET[:10]) for _ in range(2)) + f"{i:07d}"
        return [f"大兴测试企业{i:06d}有限公司", body + check_char(body), UNITS[i % len(UNITS)],
                f"北京市大兴区测试路{i % 500}号", "CFGHI"[i % 5], rng.randint(1, 500), "是" if i % 50 == 0 else "否",
                f"联系人{i % 997}", f"13{rng.randint(100000000, 999999999)}"]

    if as_csv:
        with open(path, "w", encoding="gb18030", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["大兴区企业台账（基准测试）"])
            w.writerow(header)
            for i in range(rows):
                w.writerow(row(i))
        return
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(["大兴区企业台账（基准测试）"])
    ws.append(header)
    for i in range(rows):
        ws.append(row(i))
    wb.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--csv", action="store_true", help="a GB18030 CSV instead of .xlsx")
    ap.add_argument("--generate", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.generate:
        generate(a.generate, a.rows, a.csv)
        return
    tmp = tempfile.mkdtemp(prefix="crm-import-bench-")
    path = os.path.join(tmp, "ledger.csv" if a.csv else "ledger.xlsx")
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--rows", str(a.rows), "--generate", path] + (["--csv"] if a.csv else []),
                   check=True)
    print(f"generated {a.rows:,} rows ({os.path.getsize(path) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    os.environ["CRM_DATABASE_URL"] = f"sqlite:///{tmp}/crm.db"
    os.environ["CRM_INSTANCE_DIR"] = tmp
    from config import Config
    from crm import create_app, schema
    from crm.auth.models import User
    from crm.db import db
    from crm.enterprises.models import Enterprise
    from crm.imports import jobs as import_jobs
    from crm.imports import services
    from crm.imports.models import ImportBatch
    from crm.jobs import services as job_services
    from crm.jobs.models import Job
    from crm.org.models import OrgUnit
    from crm.org.services import load_tree_csv
    app = create_app(Config(os.environ))
    with app.app_context():
        db.connect(reuse_if_open=True)
        schema.upgrade()
        load_tree_csv()
        admin = User.create(username="bench", name="基准", role="admin", password_hash="-",
                            org_unit=OrgUnit.get(OrgUnit.parent.is_null()))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        batch = services.start(path, os.path.basename(path), admin)
        job = import_jobs.start_analysis(batch, admin)
        job_services.run(job.id)
        analysed = time.perf_counter() - started
        job = Job.get_by_id(job.id)
        assert job.state == "done", job.error
        print(f"analysis (the preview) {analysed:.1f} s")
        job = import_jobs.start_commit(ImportBatch.get_by_id(batch.id), admin, valid_only=False)
        job_services.run(job.id)
        job = Job.get_by_id(job.id)
        assert job.state == "done", job.error
        done = ImportBatch.get_by_id(batch.id)
        elapsed = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"imported: {done.created:,} new, {done.errors} errors, {Enterprise.select().count():,} files in the "
              f"database")
        print(f"time {elapsed:.1f} s ({a.rows / elapsed:,.0f} rows/s); peak RSS {rss:.0f} MB "
              f"(before the import {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()

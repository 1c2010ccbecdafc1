"""Fuzz /api/v1 with schemathesis against the served OpenAPI description.

Starts `crm serve` on a fresh database (SQLite, or PostgreSQL with --database-url) holding a
small demo set, makes a read and a write token of a supervisor (kouyj, 高米店街道) with
`crm token create`, and runs schemathesis over every operation once per token: every response
must be no server error and must match the description (status code, content type, headers,
body schema). Exits non-zero on any failure.

    .venv/bin/python scripts/api_fuzz.py [--database-url URL] [--max-examples N] [--max-time S]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance,ignored_auth")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crm(env, *args) -> str:
    out = subprocess.run([str(BIN / "crm"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"crm {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def reset_postgres(url: str, schema: str):
    import psycopg2
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cur.execute(f"CREATE SCHEMA {schema}")
    conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--max-time", type=int, default=90, help="seconds per token")
    parser.add_argument("--enterprises", type=int, default=60)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="crm-fuzz-"))
    env = {**os.environ, "CRM_INSTANCE_DIR": str(work), "CRM_API_RATE_LIMIT": "100000/minute"}
    schema = ""
    if args.database_url:
        schema = f"crm_fuzz_{os.getpid()}"
        reset_postgres(args.database_url, schema)
        sep = "&" if "?" in args.database_url else "?"
        env["CRM_DATABASE_URL"] = f"{args.database_url}{sep}schema={schema}"
    else:
        env["CRM_DATABASE_URL"] = f"sqlite:///{work / 'crm.db'}"
    crm(env, "db", "upgrade")
    crm(env, "demo", "load", "--enterprises", str(args.enterprises))
    tokens = {scope: crm(env, "token", "create", "--username", "kouyj", "--scope", scope,
                         "--name", f"schemathesis {scope}").strip().splitlines()[-1]
              for scope in ("read", "write")}
    port = free_port()
    server = subprocess.Popen([str(BIN / "crm"), "serve", "--port", str(port), "--workers", "2"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w"))
    base = f"http://127.0.0.1:{port}"
    failed = False
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit("the server did not start:\n" + (work / "serve.log").read_text()[-3000:])
        for scope, token in tokens.items():
            print(f"== schemathesis, {scope} token ==", flush=True)
            run = subprocess.run([str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
                                  "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
                                  "--max-examples", str(args.max_examples), "--max-time", str(args.max_time),
                                  "--workers", "1", "--seed", "2026", "--generation-deterministic",
                                  "--suppress-health-check", "all", "--no-color"], cwd=work)
            failed = failed or run.returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        if schema:
            reset_postgres(args.database_url, schema)
    log = (work / "serve.log").read_text()
    if "Traceback" in log:
        print(log[-5000:])
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

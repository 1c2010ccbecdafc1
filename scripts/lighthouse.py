"""Lighthouse's accessibility score for the main pages, at both tablet sizes (run once per release).

Needs Node.js with npm and Debian's Chromium. Start the demo first, then:

    CRM_INSTANCE_DIR=/tmp/lh-demo CRM_DATABASE_URL=sqlite:////tmp/lh-demo/crm.db crm serve --demo --port 8123
    python scripts/lighthouse.py http://127.0.0.1:8123

It signs in as each demo role over HTTP (the login form, with its CSRF token), passes the session
cookie to Lighthouse (`npx lighthouse@12`, installed by npm on first use), and prints one line per
page and size: the score and the audits that failed. The exit status is 1 when a score is below
100. The admin pages are left out: the demo's admin must first set up two-factor sign-in.
"""
import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

PASSWORD = "Daxing-2026"
SIZES = ((768, 1024), (1024, 768))
PAGES = {
    "lijw": ["/", "/enterprises/", "/visits/new", "/meetings/new", "/trainings/new", "/activities/new",
             "/followups/", "/visits/", "/meetings/", "/trainings/", "/activities/", "/needs/", "/meetings/points"],
    "kouyj": ["/", "/enterprises/", "/enterprises/new", "/followups/", "/followups/suggestions", "/dashboard/",
              "/compliance/", "/reports/monthly", "/imports/", "/imports/enterprises/new"],
    "leader": ["/", "/dashboard/", "/compliance/", "/reports/monthly"],
}


def session_cookie(base, username):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
    landed = opener.open(base + "/login", body).geturl()
    if urllib.parse.urlparse(landed).path.startswith("/login"):
        sys.exit(f"{username} could not sign in at {base} (is the demo running?)")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def lighthouse(url, cookie, size, chromium):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = ["npx", "--yes", "lighthouse@12", url, "--only-categories=accessibility", "--output=json",
               f"--output-path={out.name}", "--quiet", "--form-factor=desktop",
               f"--screenEmulation.width={size[0]}", f"--screenEmulation.height={size[1]}",
               "--screenEmulation.deviceScaleFactor=1", "--screenEmulation.mobile=false",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
        if cookie:
            cmd.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        subprocess.run(cmd, check=True, env={**os.environ, "CHROME_PATH": chromium},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        report = json.load(open(out.name, encoding="utf-8"))
    category = report["categories"]["accessibility"]
    failed = [ref["id"] for ref in category["auditRefs"]
              if ref["weight"] and report["audits"][ref["id"]]["score"] not in (1, None)]
    return round(category["score"] * 100), failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8123")
    parser.add_argument("--chromium", default=os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    worst = 100
    runs = [(None, "/login")] + [(user, path) for user, paths in PAGES.items() for path in paths]
    cookies = {}
    for user, path in runs:
        if user and user not in cookies:
            cookies[user] = session_cookie(args.base, user)
        for size in SIZES:
            score, failed = lighthouse(args.base + path, cookies.get(user), size, args.chromium)
            worst = min(worst, score)
            print(f"{score:3d}  {size[0]}×{size[1]}  {user or '-':7s} {path}  {' '.join(failed)}", flush=True)
    print(f"lowest accessibility score: {worst}")
    return 0 if worst == 100 else 1


if __name__ == "__main__":
    sys.exit(main())

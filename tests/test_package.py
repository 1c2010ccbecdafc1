"""The package stands on its own: a wheel built from the checkout, installed into a fresh venv,
serves the demo from an empty folder (its templates, migrations, static files and data inside)."""
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import BASE_PG_URL

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The installed demo runs on its own SQLite file whatever the suite's database: once is enough.
@pytest.mark.skipif(bool(BASE_PG_URL), reason="SQLite run only (the served demo is on SQLite)")
def test_the_wheel_installs_and_serves_the_demo_from_an_empty_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "crm/_templates/base.html" in names and "crm/_migrations/0001_initial.py" in names
    assert "crm/static/app.js" in names and "crm/data/daxing_org_units.csv" in names and "config.py" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "empty"
    folder.mkdir()
    port = _free_port()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.Popen([str(venv / "bin" / "crm"), "serve", "--demo", "--demo-enterprises", "10",
                             "--port", str(port), "--workers", "1"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl+C" in line:
                break
        output = "".join(lines)
        assert "已应用迁移：0001_initial" in output and re.search(r"0014_\w+", output), output
        page = ""
        for _ in range(100):  # gunicorn binds just after printing
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "一企一档" in page and 'name="password"' in page
        css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.css", timeout=5)
        assert css.status == 200
        # The instance (database, secret) is in the folder it was started from.
        assert (folder / "instance" / "crm.db").is_file() and (folder / "instance" / "secret_key").is_file()
    finally:
        proc.terminate()
        proc.wait(20)

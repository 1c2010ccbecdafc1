"""The `crm` command, run as a user runs it: real processes, exit codes, one-line errors."""
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pyotp
import pytest


CRM = [sys.executable, "-c", "from crm.cli import main; main()"]


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.pop("CRM_SECRET_KEY", None)
    e["CRM_INSTANCE_DIR"] = str(tmp_path / "instance")
    e["CRM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'instance' / 'crm.db'}"
    return e


def crm(env, *args, input=None):
    return subprocess.run(CRM + list(args), env=env, capture_output=True, text=True, input=input,
                          timeout=120, stdin=None if input is not None else subprocess.DEVNULL)


def one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_db_upgrade_and_status(env):
    assert "pending" in crm(env, "db", "status").stdout
    result = crm(env, "db", "upgrade")
    assert result.returncode == 0 and "0001_initial" in result.stdout
    status = crm(env, "db", "status").stdout
    assert re.search(r"0001_initial\s+applied \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", status)
    assert "无需升级" in crm(env, "db", "upgrade").stdout


def _with_units(env):
    crm(env, "db", "upgrade")
    # Load only the org tree (fast), through the app.
    code = ("from crm import create_app\nfrom crm.org.services import load_tree_csv\n"
            "app = create_app()\nwith app.app_context(): print(load_tree_csv())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "29", out.stderr


def test_user_create_and_errors(env):
    _with_units(env)
    ok = crm(env, "user", "create", "--username", "wang", "--name", "王芳", "--role", "staff",
             "--org", "瀛海镇总工会", "--password", "Yinghai-Visit-2026")
    assert ok.returncode == 0 and "已创建用户 wang" in ok.stdout
    assert "找不到单位" in one_line_error(crm(env, "user", "create", "--username", "li", "--name", "李",
                                              "--role", "staff", "--org", "不存在的镇总工会",
                                              "--password", "Yinghai-Visit-2026"))
    assert "用户名已存在" in one_line_error(crm(env, "user", "create", "--username", "wang", "--name", "王",
                                               "--role", "staff", "--org", "瀛海镇总工会",
                                               "--password", "Another-Pass-2026"))
    assert "至少需要 10 个字符" in one_line_error(crm(env, "user", "create", "--username", "zhao",
                                                     "--name", "赵", "--role", "staff", "--org", "yinghai",
                                                     "--password", "short"))
    bad_role = crm(env, "user", "create", "--username", "x", "--name", "x", "--role", "boss",
                   "--org", "yinghai", "--password", "Whatever-2026-x")
    assert bad_role.returncode != 0 and "Traceback" not in bad_role.stderr


def test_user_create_generates_password_and_passwd(env):
    _with_units(env)
    result = crm(env, "user", "create", "--username", "gen", "--name", "生成", "--role", "viewer",
                 "--org", "大兴区总工会")
    assert result.returncode == 0
    password = re.search(r"初始密码：(\S+)", result.stdout).group(1)
    assert len(password) >= 12
    changed = crm(env, "user", "passwd", "gen", "--password", "Changed-Pass-2026")
    assert changed.returncode == 0 and "会话已失效" in changed.stdout
    assert "找不到用户" in one_line_error(crm(env, "user", "passwd", "nobody", "--password", "X-long-pass-1"))


def test_commands_before_upgrade_say_so(env):
    message = one_line_error(crm(env, "user", "create", "--username", "a", "--name", "a", "--role", "staff",
                                 "--org", "x", "--password", "Long-Enough-1"))
    assert "crm db upgrade" in message


def test_unreachable_database_is_one_line(env):
    env["CRM_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/none"
    assert "数据库" in one_line_error(crm(env, "db", "status"))


def test_serve_refuses_default_secret(env):
    env["CRM_SECRET_KEY"] = "dev"
    assert "CRM_SECRET_KEY" in one_line_error(crm(env, "serve", "--port", "1"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_prints_a_login_that_works(env):
    port = _free_port()
    # A small demo: the full one is checked in tests/test_demo.py; this checks the command.
    proc = subprocess.Popen(CRM + ["serve", "--demo", "--demo-enterprises", "30", "--port", str(port),
                                   "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines, deadline = [], time.time() + 600
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl+C" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in output, output
        password = re.search(r"密码均为 (\S+?)）", output).group(1)
        username = re.search(r"^\s+(\w+)\s+.*区总工会管理员", output, re.M).group(1)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # gunicorn binds just after printing
            try:
                page = opener.open(base + "/login", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token})
        # The admin sets up an authenticator on first sign-in, as the output says.
        assert "两步验证" in output
        setup = opener.open(base + "/login", data=data.encode(), timeout=10)
        page = setup.read().decode()
        assert setup.geturl() == base + "/login/setup"
        key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"code": pyotp.TOTP(key).now(), "csrf_token": token})
        codes = opener.open(base + "/login/setup", data=data.encode(), timeout=10).read().decode()
        assert "请保存你的恢复码" in codes
        home = opener.open(base + "/", timeout=10)
        html = home.read().decode()
        assert home.geturl() == base + "/" and "退出登录" in html and "在档企业" in html
    finally:
        proc.terminate()
        proc.wait(20)


def test_import_enterprises(env, tmp_path):
    _with_units(env)
    assert crm(env, "user", "create", "--username", "boss", "--name", "管理员", "--role", "admin", "--org", "大兴区总工会",
               "--password", "Daxing-Import-2026").returncode == 0
    from crm.enterprises import creditcode
    body = "91110115MA0000077"
    good = body + creditcode.check_char(body)
    ledger = tmp_path / "台账.csv"
    ledger.write_bytes(("大兴区企业台账\n企业名称,统一社会信用代码,所属工会,职工人数\n"
                        f"命令行导入企业,{good},瀛海镇总工会,30\n坏代码企业,91110115MA000007X,瀛海镇总工会,3\n").encode("gbk"))
    dry = crm(env, "import", "enterprises", str(ledger), "--dry-run")
    assert dry.returncode == 0 and "表头在第 2 行" in dry.stdout and "第 4 行 错误" in dry.stdout
    assert "检查完成（未写入）：新建 1，错误 1" in dry.stdout
    refused = crm(env, "import", "enterprises", str(ledger))
    assert "第 4 行" in one_line_error(refused) and "没有导入任何一行" in refused.stderr
    done = crm(env, "import", "enterprises", str(ledger), "--valid-only")
    assert done.returncode == 0 and "新建 1" in done.stdout and "错误未导入 1" in done.stdout
    again = crm(env, "import", "enterprises", str(ledger), "--valid-only")
    assert "新建 0" in again.stdout and "无变化 1" in again.stdout
    assert "找不到单位" in one_line_error(crm(env, "import", "enterprises", str(ledger), "--org", "火星镇"))


def test_demo_load_district_scale(env):
    crm(env, "db", "upgrade")
    result = crm(env, "demo", "load", "--scale", "district", "--fraction", "0.001")
    assert result.returncode == 0, result.stderr
    assert "已装入区级数据集：users 40，enterprises 100，visits 1,000" in result.stdout
    again = crm(env, "demo", "load", "--scale", "district", "--fraction", "0.001")
    assert "只能装入空数据库" in one_line_error(again)


def test_a_worker_settles_what_it_loaded_out_of_the_collectors_reach():
    """crm serve's workers (gunicorn post_worker_init) freeze what loading the app made, so full
    collections during requests do not walk it again."""
    import gc
    from crm.cli.serve import settle
    try:
        settle()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()

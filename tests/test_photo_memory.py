"""Decoding photos is bounded: four of the largest images the app takes, posted at once through
the visit form, raise the process's peak memory by well under 600 MB; a 50-megapixel phone photo
is accepted and re-encoded. Measured in a fresh process (its peak RSS), not timed."""
import json
import subprocess
import sys
import textwrap

from PIL import Image

ROOT = str(__import__("pathlib").Path(__file__).resolve().parent.parent)

PROBE = textwrap.dedent(r'''
    import json, sys, threading, re
    from config import TestConfig
    from crm import create_app
    from crm.db import bind
    from crm import schema

    def status_kb(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    base, files = sys.argv[1], sys.argv[2:]
    app = create_app(TestConfig({"CRM_DATABASE_URL": f"sqlite:///{base}/crm.db", "CRM_INSTANCE_DIR": f"{base}/i",
                                 "CRM_UPLOAD_DIR": f"{base}/u"}))
    database = bind(f"sqlite:///{base}/crm.db")
    database.connect(reuse_if_open=True)
    schema.upgrade()
    from crm.org.services import create_unit
    from crm.auth.models import User
    from crm.enterprises.services import create_enterprise
    root = create_unit("区总工会", "district", None)
    user = User.create(username="u", name="用户", role="staff", org_unit=root, password_hash="x")
    ent = create_enterprise({"name": "测试企业", "org_unit": root.id}, user)
    database.close()
    blobs = [(open(f, "rb").read(), f.rsplit("/", 1)[-1]) for f in files]
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id(); s["_fresh"] = True
        import time; s["login_at"] = time.time()
    path = f"/enterprises/{ent.id}/visits/new"
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    import io
    codes = []
    def post(blob, name, i):
        c = app.test_client()
        with client.session_transaction() as a, c.session_transaction() as b:
            b.update(dict(a))
        data = {"csrf_token": token, "form_key": f"memory-probe-key-{i:04d}", "visited_on": "2026-11-30",
                "kind": "door", "summary": "照片", "visitor_ids": [str(user.id)],
                "photos": (io.BytesIO(blob), name)}
        codes.append(c.post(path, data=data, content_type="multipart/form-data").status_code)
    # The peak is this process image's own (VmHWM), reset here: ru_maxrss would carry the peak of
    # the (large) pytest process this one was forked from.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_kb("VmRSS")
    threads = [threading.Thread(target=post, args=(b, n, i)) for i, (b, n) in enumerate(blobs)]
    for t in threads: t.start()
    for t in threads: t.join()
    peak = status_kb("VmHWM")
    database.connect(reuse_if_open=True)
    from crm.photos.models import Photo
    kept = [(p.original_name, p.width, p.height) for p in Photo.select().where(Photo.kind == "visit")]
    print(json.dumps({"before_mb": before / 1024, "peak_mb": peak / 1024, "codes": codes, "kept": kept}))
''')


def test_four_large_photos_at_once_stay_within_memory(tmp_path):
    files = []
    big_jpeg = tmp_path / "phone-50mp.jpg"  # 8660 × 5774, a 50-megapixel phone photo
    Image.new("RGB", (8660, 5774), (120, 160, 200)).save(big_jpeg, "JPEG", quality=80)
    rgba = tmp_path / "rgba-16mp.png"  # the PNG cap, with transparency: the costliest kind
    Image.new("RGBA", (4000, 4000), (200, 30, 30, 128)).save(rgba, "PNG")
    files = [big_jpeg, big_jpeg, rgba, rgba]
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), *map(str, files)], capture_output=True,
                         text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print("photo memory:", figures)
    assert figures["codes"] == [302] * 4
    growth = figures["peak_mb"] - figures["before_mb"]
    assert growth < 600, figures
    # The 50-megapixel photo is accepted and re-encoded to the kept size.
    assert [(w, h) for name, w, h in figures["kept"] if name == "phone-50mp.jpg"] == [(2560, 1707)] * 2


def test_a_palette_png_over_the_cap_is_refused_with_a_message(tmp_path):
    from crm.common.errors import ServiceError
    from crm.photos.services import process
    import io
    import pytest
    buf = io.BytesIO()
    Image.new("P", (6300, 6300), 1).save(buf, "PNG")  # 38 KB that would decode to 40 megapixels
    with pytest.raises(ServiceError, match="像素太多"):
        process(buf.getvalue(), "海报.png")

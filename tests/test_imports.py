"""Importing the ledgers staff keep: hand-made .xlsx and .csv files with the usual mess, each row's
outcome and reason; all or nothing; the record of the import; export → import changes nothing."""
import io
import re
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from crm.common.errors import ServiceError
from crm.enterprises import creditcode
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.imports import services
from crm.imports.models import ImportBatch
from tests.conftest import login_as
from tests.job_helpers import run_jobs


def code(n: int) -> str:
    body = f"91110115MA{n:07d}"
    return body + creditcode.check_char(body)


@pytest.fixture
def town(make):
    root = make.root()
    a = make.org("甲镇总工会", parent=root)
    b = make.org("乙镇总工会", parent=root)
    sup = make.user("supervisor", org=a, username="sup", name="主管甲")
    existing = make.enterprise(org=a, name="甲镇老企业有限公司", credit_code=code(1), employees=10)
    return {"root": root, "a": a, "b": b, "sup": sup, "existing": existing}


def messy_workbook(path, town):
    """A town union's own sheet: a merged title row, synonyms for headers, and every usual mistake."""
    wb = Workbook()
    ws = wb.active
    ws.append(["2026年甲镇企业台账（截至10月）"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "单位名称", "信用代码", "所属单位", "员工人数", "建会情况", "建会时间", "电话"])
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code(2))
    rows = [
        [1, "  甲镇新兴科技有限公司 ", full_width, "甲镇总工会", "120人", "√", "2023年5月", "13812345678"],   # 3 new
        [2, "错误校验位有限公司", code(3)[:-1] + ("0" if code(3)[-1] != "0" else "1"), "甲镇", 5, "否", None, None],  # 4
        [3, "甲镇新兴科技（重复行）", code(2), "甲镇总工会", 8, "", None, None],                      # 5 duplicate
        [4, "甲镇老企业有限公司", code(1).lower(), "甲镇总工会", "２５", "", None, None],             # 6 update
        [5, "火星物流有限公司", code(4), "火星镇总工会", 3, "", None, None],                           # 7 unknown unit
        [6, "乙镇的企业", code(5), "乙镇总工会", 3, "", None, None],                                   # 8 out of scope
        [None, None, None, None, None, None, None, None],                                              # 9 empty
        [8, "公式企业", code(6), "甲镇总工会", "=E3*2", "", None, None],                              # 10 formula
        [9, "只有名称的商户", None, None, None, "×", "2024/5/1", "010-6123456"],                        # 11 new
    ]
    for row in rows:
        ws.append(row)
    wb.save(path)


def outcomes(batch, user):
    return {r.row: (r.outcome, r.reason) for r in services.analyser(batch, user)}


def test_a_messy_workbook_row_by_row(app, town, tmp_path):
    path = tmp_path / "台账.xlsx"
    messy_workbook(path, town)
    with app.app_context():
        batch = services.start(path, "台账.xlsx", town["sup"], town["a"])
        assert batch.header_row == 2
        assert services.mapping_of(batch) == {1: "name", 2: "credit_code", 3: "org_unit", 4: "employees",
                                              5: "union_status", 6: "union_founded_on", 7: "contact_phone"}
        result = outcomes(batch, town["sup"])
    assert result[3] == ("new", "")
    assert result[4][0] == "error" and "统一社会信用代码" in result[4][1] and "校验" in result[4][1]
    assert result[5] == ("duplicate", "与第 3 行重复（信用代码相同）")
    assert result[6] == ("update", "更新：职工人数")
    assert result[7][0] == "error" and "找不到“火星镇总工会”这个单位" in result[7][1]
    assert result[8] == ("error", "所属工会“乙镇总工会”不在您的管辖范围内")
    assert result[9] == ("empty", "空行，已跳过")
    assert result[10][0] == "error" and "公式" in result[10][1] and "职工人数" not in result[10][1]
    assert result[11] == ("new", "")
    assert len(result) == 9


def test_a_file_with_errors_commits_nothing_unless_asked(app, town, tmp_path):
    path = tmp_path / "台账.xlsx"
    messy_workbook(path, town)
    with app.app_context():
        batch = services.start(path, "台账.xlsx", town["sup"], town["a"])
        before = Enterprise.select().count()
        with pytest.raises(ServiceError, match="第 4 行"):
            services.commit(batch, town["sup"])
        assert Enterprise.select().count() == before
        # Nothing imported, and the same file can go again with 只导入无误的行 (no new upload).
        assert ImportBatch.get_by_id(batch.id).status == "uploaded"
        assert "只导入无误的行" in ImportBatch.get_by_id(batch.id).message
        done = services.commit(ImportBatch.get_by_id(batch.id), town["sup"], valid_only=True)
    assert (done.status, done.created, done.updated, done.duplicates, done.errors) == ("committed", 2, 1, 1, 4)
    new = Enterprise.get(Enterprise.credit_code == code(2))
    assert new.name == "甲镇新兴科技有限公司" and new.employees == 120 and new.org_unit_id == town["a"].id
    assert new.stage == "approved" and new.union_founded_on == date(2023, 5, 1)
    assert Contact.get(Contact.enterprise == new).phone == "13812345678"
    shop = Enterprise.get(Enterprise.name == "只有名称的商户")
    assert shop.credit_code is None and shop.stage == "not_contacted"
    assert Enterprise.get_by_id(town["existing"].id).employees == 25
    made = {c.source for c in EnterpriseChange.select().where(EnterpriseChange.enterprise.in_([new.id, shop.id]))}
    changed = EnterpriseChange.get(EnterpriseChange.enterprise == town["existing"].id,
                                   EnterpriseChange.field == "employees")
    assert made == {f"import:{done.id}"} and changed.source == f"import:{done.id}"
    assert (changed.old_value, changed.new_value) == ("10", "25")
    page = login_as(app.test_client(), town["sup"]).get(f"/enterprises/{new.id}/history").get_data(as_text=True)
    assert f"来自导入 #{done.id}" in page
    with app.app_context(), pytest.raises(ServiceError, match="已经导入过"):
        services.commit(done, town["sup"])


def test_skip_leaves_existing_files_alone(app, town, tmp_path):
    path = tmp_path / "台账.csv"
    path.write_text(f"企业名称,统一社会信用代码,职工人数\n甲镇老企业有限公司,{code(1)},99\n", encoding="utf-8")
    with app.app_context():
        batch = services.start(path, "台账.csv", town["sup"], town["a"], on_duplicate="skip")
        assert outcomes(batch, town["sup"])[2] == ("duplicate", "已有档案，按选择跳过（有 1 项不同）")
        services.commit(batch, town["sup"])
    assert Enterprise.get_by_id(town["existing"].id).employees == 10


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_in_the_encodings_excel_and_wps_save(app, town, tmp_path, encoding):
    text = ("企业名称,统一社会信用代码,所属工会,联系人,手机,是否建会\r\n"
            f"瀛嘉汇老北京炸酱面馆,{code(7)},甲镇总工会,王站长,13900001111,否\r\n"
            "环宇坊便利店,,甲镇,李经理,,是\r\n")
    path = tmp_path / "台账.csv"
    path.write_bytes(text.encode(encoding))
    with app.app_context():
        batch = services.start(path, "台账.csv", town["sup"])
        assert outcomes(batch, town["sup"]) == {2: ("new", ""), 3: ("new", "")}
        services.commit(batch, town["sup"])
    assert Enterprise.get(Enterprise.credit_code == code(7)).name == "瀛嘉汇老北京炸酱面馆"
    assert Enterprise.get(Enterprise.name == "环宇坊便利店").stage == "approved"
    assert Contact.get(Contact.name == "王站长").phone == "13900001111"


def test_values_people_type_are_normalised(app, town, tmp_path):
    from crm.imports.analyse import parse_bool, parse_date, parse_int
    assert [parse_bool(v) for v in ("是", "√", "已建", "Y", "否", "×", "未建", "0", "")] == \
        [True, True, True, True, False, False, False, False, None]
    assert [parse_date(v) for v in ("2023-05-01", "2023/5/1", "2023年5月", "2023年5月6日", "2023.5.6", 45047)] == \
        [date(2023, 5, 1), date(2023, 5, 1), date(2023, 5, 1), date(2023, 5, 6), date(2023, 5, 6), date(2023, 5, 1)]
    assert [parse_int(v) for v in ("1,200", "３０", "45人", 12.0, "")] == [1200, 30, 45, 12, None]


def test_export_then_import_changes_nothing(app, make, town, tmp_path):
    for i in range(3):
        make.enterprise(org=town["a"], name=f"导出企业{i}", credit_code=code(20 + i), employees=30 + i,
                        address="大兴区某路1号", is_key=bool(i % 2), industry="C",
                        contact={"name": f"联系人{i}", "phone": f"1380000000{i}"})
    make.enterprise(org=town["a"], name="没有信用代码的商户", category="merchant")
    client = login_as(app.test_client(), town["sup"])
    resp = client.get("/enterprises/export.xlsx?q=")
    assert resp.status_code == 200
    path = tmp_path / "导出.xlsx"
    path.write_bytes(resp.data)
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws.max_row == 1 + Enterprise.select().where(Enterprise.org_unit == town["a"]).count()
    with app.app_context():
        batch = services.start(path, "导出.xlsx", town["sup"])
        counts, _ = services.preview(batch, town["sup"])
    assert counts["new"] == 0 and counts["update"] == 0 and counts["error"] == 0
    assert counts["unchanged"] == ws.max_row - 1


def test_exports_stream_their_rows(app, make, town):
    """A long export is read through a cursor, never held whole: on PostgreSQL a server-side
    cursor (psycopg2 would fetch the whole result first), read `size` rows at a time."""
    from crm.db import db, is_postgres, stream, stream_batches
    ids = [make.enterprise(org=town["a"], name=f"流式导出{i}").id for i in range(5)]
    with app.app_context():
        db.connect(reuse_if_open=True)
        def query():
            return Enterprise.select().where(Enterprise.id.in_(ids)).order_by(Enterprise.id.desc())
        assert [e.id for e in stream(query(), size=2)] == sorted(ids, reverse=True)
        assert [[e.id for e in b] for b in stream_batches(query(), 2)] == \
            [sorted(ids, reverse=True)[:2], sorted(ids, reverse=True)[2:4], [min(ids)]]
        assert list(stream_batches(query().where(Enterprise.id < 0), 2)) == []
        rows = stream(query(), size=2)
        assert next(rows).name == "流式导出4"
        cursors = "SELECT count(*) FROM pg_cursors"
        try:
            if is_postgres():
                assert db.execute_sql(cursors).fetchone()[0] == 1
        finally:
            rows.close()
        assert not db.in_transaction()
        if is_postgres():
            assert db.execute_sql(cursors).fetchone()[0] == 0
        db.close()


def test_the_pages_from_upload_to_the_record(app, make, town, tmp_path):
    client = login_as(app.test_client(), town["sup"])
    page = client.get("/imports/enterprises/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = f"企业名称,信用代码,职工人数\n页面导入企业,{code(30)},40\n错行企业,ABC,1\n".encode("gbk")
    resp = client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(town["a"].id),
                                                         "on_duplicate": "update", "file": (io.BytesIO(data), "台账.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and "/mapping" in resp.headers["Location"]
    batch = ImportBatch.get()
    reading = client.get(resp.headers["Location"]).get_data(as_text=True)  # its header is read by a job
    assert "正在读取文件" in reading and "jobs.js" in reading and batch.header_row is None
    assert run_jobs(app) == 1
    mapping_page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "表头在第 1 行" in mapping_page and "页面导入企业" in mapping_page
    resp = client.post(resp.headers["Location"], data={"csrf_token": token, "col0": "name", "col1": "credit_code",
                                                       "col2": ""})  # the user skips 职工人数
    waiting = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "正在分析文件" in waiting and "jobs.js" in waiting and "<script>" not in waiting
    assert run_jobs(app) == 1
    preview = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "新建 1" in preview and "错误 1" in preview and "下载未导入的行" in preview
    rejected = load_workbook(io.BytesIO(client.get(f"/imports/{batch.id}/rejected.xlsx").data)).active
    assert [c.value for c in rejected[1]] == ["原行号", "原因", "企业名称", "信用代码", "职工人数"]
    assert rejected["A2"].value == 3 and "统一社会信用代码" in rejected["B2"].value
    assert "须勾选“只导入无误的行”，1 行错误不导入" in preview  # what the confirmation asks
    client.post(f"/imports/{batch.id}/commit", data={"csrf_token": token})
    assert run_jobs(app) == 1
    assert ImportBatch.get_by_id(batch.id).status == "uploaded" and not Enterprise.select().where(
        Enterprise.name == "页面导入企业").exists()
    # The same preview again, saying why; the same file imports its valid rows when asked.
    again = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "没有导入任何一行" in again and "确认导入" in again
    client.post(f"/imports/{batch.id}/commit", data={"csrf_token": token, "valid_only": "y"})
    assert run_jobs(app) == 1
    ent = Enterprise.get(Enterprise.name == "页面导入企业")
    assert ent.employees is None  # the skipped column
    record = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "来自导入 #" in record and ImportBatch.get_by_id(batch.id).created == 1
    assert "台账.csv" in client.get("/imports/").get_data(as_text=True)
    # Staff do not import; another town's supervisor does not see this import.
    assert login_as(app.test_client(), make.user("staff", org=town["a"])).get("/imports/").status_code == 403
    other = login_as(app.test_client(), make.user("supervisor", org=town["b"]))
    assert other.get(f"/imports/{batch.id}").status_code == 404
    assert "台账.csv" not in other.get("/imports/").get_data(as_text=True)


def test_a_file_with_nothing_to_import_offers_no_import(app, town):
    client = login_as(app.test_client(), town["sup"])
    page = client.get("/imports/enterprises/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = "企业名称,信用代码\n错行企业,ABC\n".encode("gbk")
    resp = client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(town["a"].id),
                                                         "on_duplicate": "update", "file": (io.BytesIO(data), "错.csv")},
                       content_type="multipart/form-data")
    batch = ImportBatch.get()
    run_jobs(app)
    client.post(resp.headers["Location"], data={"csrf_token": token, "col0": "name", "col1": "credit_code"})
    run_jobs(app)
    preview = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "没有可以导入的行" in preview and "确认导入" not in preview
    assert f'action="/imports/{batch.id}/commit"' not in preview


# ---- what the review found ---------------------------------------------------------------------

def _csv(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_blank_unit_never_moves_a_file_and_an_error_row_claims_nothing(app, make, town, tmp_path):
    station = make.org("甲镇服务站", "station", parent=town["a"])
    at_station = make.enterprise(org=station, name="站点企业", credit_code=code(40), employees=3)
    path = _csv(tmp_path, f"企业名称,信用代码,职工人数\n站点企业,{code(40)},9\n"
                          f"甲镇老企业有限公司,{code(41)},1\n甲镇老企业有限公司,{code(1)},11\n")
    with app.app_context():
        batch = services.start(path, "t.csv", town["sup"], town["a"])
        result = outcomes(batch, town["sup"])
        assert result[2] == ("update", "更新：职工人数")                       # not 所属工会
        assert result[3][0] == "error" and "信用代码不同" in result[3][1]
        assert result[4] == ("update", "更新：职工人数")                       # not a duplicate of row 3
        services.commit(batch, town["sup"], valid_only=True)
    assert Enterprise.get_by_id(at_station.id).org_unit_id == station.id


def test_two_files_of_one_name_need_the_code(app, make, town, tmp_path):
    make.enterprise(org=town["a"], name="便利店")
    make.enterprise(org=town["a"], name="便利店")
    with app.app_context():
        batch = services.start(_csv(tmp_path, "企业名称,职工人数\n便利店,3\n"), "t.csv", town["sup"], town["a"])
        assert outcomes(batch, town["sup"])[2] == ("error", "本单位有 2 家同名企业的档案，请填写统一社会信用代码以区分")


def test_choices_dates_lengths_and_text(app, town, tmp_path):
    from crm.imports.analyse import CellError, parse_choice, parse_date
    from crm.enterprises.choices import INDUSTRIES, KINDS, PARTY_ORG
    assert [parse_choice(v, KINDS) for v in ("有限公司", "有限责任公司", "个体户")] == ["llc", "llc", "individual"]
    assert [parse_choice(v, PARTY_ORG) for v in ("是", "否", "已建立党组织")] == ["established", "none", "established"]
    assert [parse_choice(v, INDUSTRIES) for v in ("C", "C 制造业", "制造业", "制造")] == ["C", "C", "C", "C"]
    with pytest.raises(CellError, match="几个选项"):
        parse_choice("服务业", INDUSTRIES)
    for bad in (2023, True):
        with pytest.raises(CellError):
            parse_date(bad)
    long_name = "长" * 201
    path = _csv(tmp_path, f"企业名称,职工人数,备注\n{long_name},3,\n大企业,99999999999,\n"
                          "=公式样的名称,1,\"第一行\r\n第二行\"\n")
    with app.app_context():
        batch = services.start(path, "t.csv", town["sup"], town["a"])
        result = outcomes(batch, town["sup"])
        assert result[2] == ("error", "“企业名称”超过 200 个字")
        assert result[3] == ("error", "“职工人数”数字太大")
        assert result[4] == ("new", "")
        services.commit(batch, town["sup"], valid_only=True)
    ent = Enterprise.get(Enterprise.name == "=公式样的名称")
    assert ent.notes == "第一行\n第二行"


def test_one_batch_is_committed_once(app, town, tmp_path):
    with app.app_context():
        batch = services.start(_csv(tmp_path, f"企业名称,信用代码\n一次企业,{code(50)}\n"), "t.csv", town["sup"], town["a"])
        assert services.claim(batch) is True and services.claim(batch) is False   # a second tap
        done = services.commit(ImportBatch.get_by_id(batch.id), town["sup"])          # the claimed run goes on
        assert done.created == 1
        with pytest.raises(ServiceError, match="已经导入过"):
            services.commit(done, town["sup"])
    assert Enterprise.select().where(Enterprise.name == "一次企业").count() == 1


def test_export_drops_characters_excel_cannot_hold(app, make, town):
    ent = make.enterprise(org=town["a"], name="控制字符企业")
    Enterprise.update(notes="响铃\x07换页\x0c结束").where(Enterprise.id == ent.id).execute()
    client = login_as(app.test_client(), town["sup"])
    ws = load_workbook(io.BytesIO(client.get("/enterprises/export.xlsx?q=控制字符").data)).active
    notes_col = [c.value for c in ws[1]].index("备注")
    assert ws.cell(row=2, column=notes_col + 1).value == "响铃换页结束"


def test_a_damaged_file_is_one_message(app, town, tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    with app.app_context(), pytest.raises(ServiceError, match="无法读取"):
        services.start(bad, "坏.xlsx", town["sup"], town["a"])
    assert list((tmp_path / "instance" / "imports").glob("*.xlsx")) == []


def test_the_row_estimate_for_the_progress_reads_no_cell(tmp_path):
    from crm.imports.reader import estimate_rows
    wb = Workbook(write_only=True)  # (writes no <dimension>: openpyxl's max_row would not know)
    ws = wb.create_sheet("台账")
    for i in range(3000):
        ws.append([f"估算企业{i}有限公司", code(9000 + i), "甲镇总工会", i])
    wb.save(tmp_path / "大.xlsx")
    assert 2700 <= estimate_rows(tmp_path / "大.xlsx") <= 3300
    (tmp_path / "小.csv").write_text("企业名称\n甲\n乙\n", encoding="utf-8")
    assert estimate_rows(tmp_path / "小.csv") == 3
    (tmp_path / "坏.xlsx").write_bytes(b"not a zip")
    assert estimate_rows(tmp_path / "坏.xlsx") == 1

"""The monthly report as a formatted workbook: a title row, one sheet per section, Chinese
headers, column widths, frozen panes below the header, a totals row."""
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from crm.fieldwork.ledger import FORMULA_START, xlsx_value
from crm.reports.monthly import RANK_KEYS

STATE_TEXT = {"met": "达标", "running": "进行中", "missed": "未达标", "future": "未开始", "off": "不考核"}
FILLS = {"met": "D1E7DD", "running": "FFF3CD", "missed": "F8D7DA"}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="BBBBBB")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


FRAMED_ROWS = 1000


def _sheet(wb, name, title, headers, rows, total=None, states=None):
    """headers: [(text, width)]; rows: lists; total: a last row in bold; states: {(row i, col j):
    state} to colour."""
    ws = wb.create_sheet(name)
    title, headers = xlsx_value(title), [(xlsx_value(h), w) for h, w in headers]
    rows = [[xlsx_value(v) for v in row] for row in rows]
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    ws.append([h for h, _ in headers])
    for j, (_, width) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
        cell = ws.cell(row=2, column=j)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append(row)
    if total is not None:
        ws.append([xlsx_value(v) for v in total])
        for cell in next(ws.iter_rows(min_row=ws.max_row, max_row=ws.max_row, max_col=len(headers))):
            cell.font = Font(bold=True)
    framed = ws.max_row <= FRAMED_ROWS  # borders on every cell are slow to write: long lists go plain
    wrap = Alignment(vertical="center", wrap_text=True)
    for cells in ws.iter_rows(min_row=3, max_row=ws.max_row, max_col=len(headers)):
        for cell in cells:
            if framed:
                cell.border, cell.alignment = BORDER, wrap
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # typed text that looks like a formula stays text
    for (i, j), state in (states or {}).items():
        if state in FILLS:
            ws.cell(row=3 + i, column=j + 1).fill = PatternFill("solid", fgColor=FILLS[state])
    ws.freeze_panes = "B3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # one page wide, as many pages tall as needed
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    return ws


def workbook(report) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    title = f"{report.title}（{report.scope.name}）"
    # 1. 双沟通达标
    headers = [("单位", 26), ("职工沟通会（场）", 12), ("职工沟通会", 10), ("缺少的周", 26), ("企业沟通会（场）", 12),
               ("企业沟通会", 10), ("缺少的半月", 18), ("重点企业季度走访", 16), ("全域覆盖（今年）", 16)]
    if report.with_unionized:
        headers.append(("建会企业月访", 14))
    rows, states = [], {}
    for i, r in enumerate(report.rows):
        s, e = r.checks["staff_weekly"], r.checks["enterprise_half_month"]
        k, c = r.checks["key_quarterly"], r.checks["coverage_yearly"]
        rows.append([r.unit.name, r.staff, STATE_TEXT[s.state], "、".join(p.period.label for p in s.missing),
                     r.enterprise, STATE_TEXT[e.state], "、".join(p.period.label for p in e.missing),
                     f"{k.count}/{k.total}" if k.total else "—", f"{c.count}/{c.total}" if c.total else "—"])
        states[(i, 2)], states[(i, 5)] = s.state, e.state
        states[(i, 7)], states[(i, 8)] = k.state, c.state
        if report.with_unionized:
            u = r.checks["unionized_monthly"]
            rows[-1].append("不考核" if u.state == "off" else f"{u.count}/{u.total}" if u.total else "—")
            states[(i, 9)] = u.state
    total = ["合计", report.total("staff"), "", "", report.total("enterprise"), "", "", "", ""] + \
        ([""] if report.with_unionized else [])
    ws = _sheet(wb, "双沟通达标", title, headers, rows, total, states)
    if report.district:
        d = report.district[0]
        ws.append([])
        ws.append([xlsx_value(f"区级职工沟通会（第三个星期四）：{STATE_TEXT[d.state]}，{d.note}")])
    # 2. 单位排名
    headers = [("单位", 26)] + [(h, 12) for _, label in RANK_KEYS for h in (label, "名次")]
    rows = []
    for r in sorted(report.rows, key=lambda r: (r.ranks["meetings"] or 999, r.unit.path)):
        line = [r.unit.name]
        for key, _ in RANK_KEYS:
            value = getattr(r, key)
            line += [value if value is not None else "—", r.ranks[key] or "—"]
        rows.append(line)
    total = ["合计", report.total("meetings"), "", report.total_coverage if report.total_coverage is not None else "—",
             "", report.total("new_unions"), "", report.total("new_members"), ""]
    ws = _sheet(wb, "单位排名", title, headers, rows, total)
    for r in range(3, ws.max_row + 1):
        ws.cell(row=r, column=4).number_format = '0.0"%"'
    # 3. 建会进度变动
    headers = [("日期", 12), ("企业名称", 36), ("所属工会", 22), ("原阶段", 16), ("新阶段", 16), ("操作人", 10), ("说明", 40)]
    rows = [[m.day, m.enterprise, m.unit, m.from_label, m.to_label, m.who, m.note] for m in report.moves]
    ws = _sheet(wb, "建会进度变动", title, headers, rows, ["合计", f"{len(report.moves)} 项", "", "", "", "", ""])
    for r in range(3, ws.max_row):
        ws.cell(row=r, column=1).number_format = "yyyy-mm-dd"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()

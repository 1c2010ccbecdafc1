"""Reading a ledger file row by row without holding it in memory: .xlsx through openpyxl's
read-only mode, .csv in UTF-8 (with or without BOM) or GBK/GB18030 as Excel and WPS save it."""
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from crm.common.errors import ServiceError
from crm.imports.columns import match_header

SCAN_ROWS = 30  # the header is looked for in the first rows (title rows above it are common)


@dataclass(frozen=True)
class Formula:
    """A formula cell without a computed value (a sheet saved by a program that does not compute)."""
    text: str


def kind_of(path) -> str:
    suffix = Path(str(path)).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ServiceError("只能导入 .xlsx 或 .csv 文件（.xls 请在 Excel/WPS 中另存为 .xlsx）", "file")


def csv_encoding(path) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(256 * 1024)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    cut = sample.rfind(b"\n")
    probe = sample[: cut + 1] if 0 < cut < len(sample) - 1 else sample
    try:
        probe.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"  # a superset of GBK, as Excel and WPS save CSV in China


csv.field_size_limit(4 * 1024 * 1024)  # a long 备注 is fine; a runaway quote is not


def _csv_rows(path):
    encoding = csv_encoding(path)
    with open(path, encoding=encoding, newline="", errors="replace") as fh:
        sample = fh.read(64 * 1024)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(fh, dialect)  # a CSV holds text only: "=…" is text, never a formula


def _xlsx_rows(path):
    from openpyxl import load_workbook
    try:
        formulas = load_workbook(path, read_only=True, data_only=False)
        values = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or renamed file
        raise ServiceError("无法读取这个 Excel 文件，请确认是 .xlsx 格式且没有加密", "file") from exc
    try:
        ws_f, ws_v = formulas.worksheets[0], values.worksheets[0]
        for ws in (ws_f, ws_v):  # some programs write a wrong <dimension>: read what is there
            ws.reset_dimensions()
        for row_f, row_v in zip(ws_f.iter_rows(), ws_v.iter_rows(values_only=True)):
            out = []
            for i, cell in enumerate(row_f):
                value = row_v[i] if i < len(row_v) else None
                if getattr(cell, "data_type", None) == "f" and value is None:
                    out.append(Formula(str(cell.value)))
                else:
                    out.append(value)
            yield out
    finally:
        formulas.close()
        values.close()


def rows(path):
    """Every row of the first sheet, as lists of cell values (numbered from 1). A file that cannot
    be read to the end is one Chinese message, not a crash."""
    if not Path(str(path)).exists():
        raise ServiceError("上传的文件已不在服务器上，请重新上传", "file")
    source = _xlsx_rows(path) if kind_of(path) == "xlsx" else _csv_rows(path)
    number = 0
    try:
        for number, row in enumerate(source, start=1):
            yield number, row
    except ServiceError:
        raise
    except Exception as exc:  # broken XML in a sheet, a runaway CSV field …
        raise ServiceError(f"文件第 {number + 1} 行附近无法读取（{type(exc).__name__}），请在 Excel/WPS 中打开后另存再导入",
                           "file") from exc


SAMPLE_BYTES = 256 * 1024


def estimate_rows(path) -> int:
    """About how many rows the file has, without parsing it (for a progress bar): a CSV's line
    breaks; for a workbook, the size of its first sheet's XML over the bytes a row takes in its
    first 256 KB (openpyxl would parse the whole shared-strings table first)."""
    try:
        if kind_of(path) != "xlsx":
            count = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    count += chunk.count(b"\n")
            return max(1, count)
        import zipfile
        with zipfile.ZipFile(path) as archive:
            sheets = sorted((i for i in archive.infolist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", i.filename)),
                            key=lambda i: int(re.search(r"\d+", i.filename.rsplit("/", 1)[1]).group()))
            if not sheets:
                return 1
            with archive.open(sheets[0]) as fh:
                head = fh.read(SAMPLE_BYTES)
            rows = head.count(b"<row ") + head.count(b"<row>")
            if len(head) < SAMPLE_BYTES or not rows:
                return max(1, rows)
            return max(1, sheets[0].file_size * rows // len(head))
    except Exception:  # noqa: BLE001 (an estimate: reading the rows says what is wrong)
        return 1


def find_header(path):
    """(header row number, [header texts], {column index: field key}) — the row among the first
    ones that names the most known columns (企业名称 among them)."""
    best = None
    for number, row in rows(path):
        if number > SCAN_ROWS:
            break
        keys = {}
        for i, cell in enumerate(row):
            key = match_header(cell) if isinstance(cell, str) else None
            if key and key not in keys.values():
                keys[i] = key
        if "name" in keys.values() and (best is None or len(keys) > len(best[2])):
            best = (number, ["" if c is None else str(c) for c in row], keys)
    if best is None:
        raise ServiceError("没有找到表头：前 30 行中没有“企业名称”（或“单位名称”“名称”）一列", "file")
    return best


def text_sample(path, header_row, n=3):
    """The first n data rows under the header (for the mapping page)."""
    out = []
    for number, row in rows(path):
        if number <= header_row:
            continue
        if any(c not in (None, "") for c in row):
            out.append(row)
        if len(out) >= n:
            break
    return out



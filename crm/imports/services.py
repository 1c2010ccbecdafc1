"""Importing an enterprise ledger: keep the file, find its header, map its columns, analyse every
row's outcome (the preview), and commit — all rows or none, in one transaction, recorded. The
analysis and the commit run as jobs (crm.imports.jobs); keep_upload() is the one place that
writes the uploaded file (into the storage, `imports/<random name>`, so a worker on any server
reads it), stored_file() the one that finds it again."""
import json
import os
import secrets
from collections import Counter
from pathlib import Path
from tempfile import SpooledTemporaryFile
from types import SimpleNamespace

from flask import current_app

from crm import storage
from crm.audit import services as audit
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.enterprises import fields
from crm.enterprises import services as ent_services
from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import FORMULA_START, xlsx_value
from crm.founding import stages
from crm.imports import reader
from crm.imports.analyse import OUTCOMES, Analyser, Options
from crm.imports.columns import BY_KEY
from crm.imports.models import ImportBatch
from crm.imports.reader import Formula
from crm.permissions import in_scope

PROGRESS_EVERY = 500


KEYS = "imports/"  # the uploads' keys in the storage


def legacy_dir() -> Path:
    """Where uploads were kept before they went into the storage (a batch of then still reads it)."""
    return Path(current_app.config["INSTANCE_DIR"]) / "imports"


def _check(file_name, user, default_org, on_duplicate) -> str:
    kind = reader.kind_of(file_name)
    if default_org is not None and not in_scope(user, default_org):
        raise ServiceError("默认单位不在您的管辖范围内", "org")
    if on_duplicate not in ("update", "skip"):
        raise ServiceError("请选择已有档案的处理方式", "on_duplicate")
    return kind


def _batch_values(file_name, name, user, default_org, on_duplicate) -> dict:
    return {"file_name": os.path.basename(file_name)[:200], "stored_path": name, "user": user,
            "scope_unit": user.org_unit_id, "org_unit": default_org, "on_duplicate": on_duplicate}


def _header_values(path) -> dict:
    """The header found in the file, its columns' first mapping and the rows under it (as text)."""
    header_row, headers, mapping = reader.find_header(path)
    sample = [[_sample_text(c) for c in row] for row in reader.text_sample(path, header_row)]
    return {"header_row": header_row, "headers": json.dumps(headers, ensure_ascii=False),
            "mapping": json.dumps({str(k): v for k, v in mapping.items()}),
            "sample": json.dumps(sample, ensure_ascii=False)}


def _sample_text(value):
    if value is None:
        return None
    return value.text if isinstance(value, Formula) else str(value)


def start(source_path, file_name: str, user, default_org=None, on_duplicate="update") -> ImportBatch:
    """Keep the file (a copy under the instance directory), find its header and map its columns, at
    once (the command line, the tests; the web's upload uses receive() and a job)."""
    kind = _check(file_name, user, default_org, on_duplicate)
    name = keep_upload(source_path, kind)
    try:
        values = _header_values(storage.current().local_path(KEYS + name))
    except BaseException:
        storage.current().delete(KEYS + name)
        raise
    with db.atomic():
        return ImportBatch.create(**_batch_values(file_name, name, user, default_org, on_duplicate), **values)


def receive(source_path, file_name: str, user, default_org=None, on_duplicate="update") -> ImportBatch:
    """The web's upload: check the choices, keep the file and record the batch; reading its header
    (a large workbook takes seconds to open) is read_header(), run as a job."""
    kind = _check(file_name, user, default_org, on_duplicate)
    name = keep_upload(source_path, kind)
    with db.atomic():
        return ImportBatch.create(**_batch_values(file_name, name, user, default_org, on_duplicate))


def read_header(batch) -> ImportBatch:
    values = _header_values(stored_file(batch))
    with db.atomic():
        ImportBatch.update(analysis="", **values).where(ImportBatch.id == batch.id).execute()
    return ImportBatch.get_by_id(batch.id)


def sample_of(batch) -> list:
    try:
        return json.loads(batch.sample or "[]")
    except ValueError:
        return []


def keep_upload(source_path, kind: str) -> str:
    """The uploaded file put into the storage under a random name (`imports/<name>`): the name,
    which the batch keeps. stored_file(batch) finds it again."""
    name = f"{secrets.token_hex(12)}.{kind}"
    storage.current().put_file(KEYS + name, source_path)
    return name


def headers_of(batch):
    return json.loads(batch.headers)


def mapping_of(batch) -> dict:
    return {int(k): v for k, v in json.loads(batch.mapping).items()}


def set_mapping(batch, mapping: dict):
    """{column index: field key or ""}: the user's corrections (a column may be skipped)."""
    clean = {}
    for index, key in mapping.items():
        if not key:
            continue
        if key not in BY_KEY:
            raise ServiceError("未知的字段", "mapping")
        if key in clean.values():
            raise ServiceError(f"“{BY_KEY[key].header}”对应了不止一列，请只保留一列", "mapping")
        clean[int(index)] = key
    if "name" not in clean.values():
        raise ServiceError("请指定哪一列是“企业名称”", "mapping")
    ImportBatch.update(mapping=json.dumps({str(k): v for k, v in clean.items()}), analysis="").where(
        ImportBatch.id == batch.id).execute()
    return ImportBatch.get_by_id(batch.id)


def stored_file(batch) -> Path:
    """The kept upload as a file on this machine (the storage's own file in a directory, else a
    copy): the readers take a path. A batch from before the storage reads its old folder."""
    name = Path(batch.stored_path).name
    try:
        return storage.current().local_path(KEYS + name)
    except (storage.NotFound, storage.BadKey):
        return legacy_dir() / name


def analyser(batch, user, similar: bool = False) -> Analyser:
    """The batch's rows as they would be imported; `similar`: new rows that resemble a file (or an
    earlier row) are flagged (the preview; the import itself does not look)."""
    options = Options(user=user, default_org=batch.org_unit, on_duplicate=batch.on_duplicate, similar=similar)
    return Analyser(stored_file(batch), batch.header_row, headers_of(batch), mapping_of(batch), options)


def claim(batch) -> bool:
    """Mark an uploaded batch as being imported; False when someone else already started it."""
    return ImportBatch.update(status="running").where(ImportBatch.id == batch.id,
                                                      ImportBatch.status == "uploaded").execute() == 1


def preview(batch, user, limit=500, progress=None):
    """(counts by outcome, the first `limit` rows that are not empty: errors first, then the new
    rows that may duplicate a file). counts["similar"]: how many new rows are so flagged;
    counts["similar_close_until"]: the last row checked for close names (a long file: the rows
    after it are checked for the same name once suffixes are set aside)."""
    counts, shown, problems, flagged = Counter(), [], [], []
    rows = analyser(batch, user, similar=True)
    for i, result in enumerate(rows, start=1):
        if progress is not None and i % PROGRESS_EVERY == 0:
            progress(i)
        counts[result.outcome] += 1
        if result.outcome == "empty":
            continue
        if result.similar or result.similar_row:
            counts["similar"] += 1
        if result.outcome == "error" and len(problems) < limit:
            problems.append(result)
        elif (result.similar or result.similar_row) and len(flagged) < limit:
            flagged.append(result)
        elif len(shown) < limit:
            shown.append(result)
    if rows.close_until:
        counts["similar_close_until"] = rows.close_until
    return counts, (problems + flagged + shown)[:limit]


# ---- the analysis, kept for the preview ------------------------------------------------------------

SHOWN = ("row", "outcome", "reason", "name", "similar", "similar_row")


class ShownRow(SimpleNamespace):
    @property
    def outcome_label(self):
        return OUTCOMES.label(self.outcome)


def analyse(batch, user, progress=None) -> dict:
    """preview() of the batch kept on it (for the mapping it has now): what its page shows."""
    counts, rows = preview(batch, user, progress=progress)
    kept = {"mapping": batch.mapping, "at": utcnow().isoformat(timespec="seconds"), "counts": dict(counts),
            "rows": [{k: getattr(r, k) for k in SHOWN} for r in rows]}
    with db.atomic():
        ImportBatch.update(analysis=json.dumps(kept, ensure_ascii=False, default=str)).where(
            ImportBatch.id == batch.id, ImportBatch.mapping == batch.mapping).execute()
    return kept


def stored_analysis(batch):
    """(counts, rows) of the batch's kept analysis, or None (none yet, or made for another mapping)."""
    try:
        kept = json.loads(batch.analysis) if batch.analysis else None
    except ValueError:
        return None
    if not kept or kept.get("mapping") != batch.mapping:
        return None
    return kept["counts"], [ShownRow(**r) for r in kept["rows"]]


def rows_total(batch) -> int:
    """The rows under the header the analysis counted (empty ones too), or an estimate of the
    file's rows before it (for "已分析 n / N 行")."""
    kept = stored_analysis(batch)
    if kept is not None:
        return sum(v for k, v in kept[0].items() if k in OUTCOMES.keys())
    return max(1, reader.estimate_rows(stored_file(batch)) - (batch.header_row or 0))


# ---- the progress of a commit (its transaction hides its writes: a small file in the storage, ----
# ---- beside the upload, which every server reads) ---------------------------------------------

def progress_key(batch_id) -> str:
    return f"{KEYS}{int(batch_id)}.progress"


def write_progress(batch_id, done: int):
    storage.current().put(progress_key(batch_id), json.dumps({"done": done}).encode())


def read_progress(batch_id) -> int:
    try:
        return int(json.loads(storage.current().read(progress_key(batch_id))).get("done", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def clear_progress(batch_id):
    storage.current().delete(progress_key(batch_id))


def rejected_name(batch) -> str:
    return f"未导入的行-{Path(batch.file_name).stem}.xlsx"


def rejected_xlsx(batch, user):
    """The rows that would not be imported (errors and duplicates), as they were, with the reason:
    a file to fix and import again. Streamed through a write-only workbook."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("未导入的行")
    headers = headers_of(batch)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FCE4D6")
    head = []
    for text in ["原行号", "原因"] + headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill = bold, fill
        head.append(cell)
    ws.append(head)
    ws.freeze_panes = "C2"
    for result in analyser(batch, user):
        if result.outcome not in ("error", "duplicate"):
            continue
        values = []
        for v in result.raw[: len(headers)]:
            v = v.text if isinstance(v, Formula) else v
            v = xlsx_value(v)
            if isinstance(v, str) and v.startswith(FORMULA_START):
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                v = cell
            values.append(v)
        ws.append([result.row, result.reason] + values)
    out = SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    wb.save(out)
    out.seek(0)
    return out


class HasErrors(ServiceError):
    """The file has rows in error and "只导入无误的行" was not chosen: nothing was imported, and the
    batch can be committed again with it (no new upload)."""


def commit(batch, user, valid_only=False, progress=None) -> ImportBatch:
    """Import every row in one transaction: new files created, matched files updated (or left, as
    chosen). A file with any error commits nothing, unless `valid_only` (then those rows are left
    out and counted). `progress(done)` is called every few hundred rows."""
    current = ImportBatch.get_by_id(batch.id).status
    if current == "committed":
        raise ServiceError("这个文件已经导入过了", None)
    if current == "uploaded" and not claim(batch):
        raise ServiceError("这个文件正在导入", None)
    if current not in ("uploaded", "running"):
        raise ServiceError("这次导入已结束，请重新上传文件", None)
    source = f"import:{batch.id}"
    counts = Counter()
    try:
        with db.atomic(), signals.batch():  # the aggregates are recomputed once, at the end
            for i, result in enumerate(analyser(batch, user), start=1):
                counts[result.outcome] += 1
                if result.outcome == "error" and not valid_only:
                    raise HasErrors(f"第 {result.row} 行：{result.reason}。文件有错误，没有导入任何一行；"
                                    "可以勾选“只导入无误的行”再导入，或修改文件后重新上传", None)
                if result.outcome == "new":
                    values = {k: v for k, v in result.data.items() if k in fields.EDITABLE}
                    values["org_unit"] = result.data["org_unit"].id
                    ent_services.create_enterprise(values, user, contact=result.contact,
                                                   initial_stage=result.stage or stages.FIRST, source=source)
                elif result.outcome == "update":
                    current = Enterprise.get_by_id(result.existing_id)
                    ent_services.update_enterprise(current.id, result.changes, user, current.version, source=source)
                if progress is not None and i % PROGRESS_EVERY == 0:
                    progress(i)
            values = {"status": "committed", "valid_only": valid_only, "finished_at": utcnow(),
                      "rows_total": sum(v for k, v in counts.items() if k != "empty"), "created": counts["new"],
                      "updated": counts["update"], "unchanged": counts["unchanged"],
                      "duplicates": counts["duplicate"], "errors": counts["error"], "message": ""}
            ImportBatch.update(**values).where(ImportBatch.id == batch.id).execute()
    except HasErrors as exc:  # back to the preview: the same file can be committed with valid_only
        ImportBatch.update(status="uploaded", message=str(exc)).where(
            ImportBatch.id == batch.id, ImportBatch.status != "committed").execute()
        raise
    except Exception as exc:
        message = str(exc) if isinstance(exc, ServiceError) else f"导入出错，没有写入任何一行（{type(exc).__name__}）"
        ImportBatch.update(status="failed", message=message, finished_at=utcnow(), errors=counts["error"]).where(
            ImportBatch.id == batch.id, ImportBatch.status != "committed").execute()
        raise
    done = ImportBatch.get_by_id(batch.id)
    audit.record("import", user=user, target=("import_batch", batch.id),
                 detail=f"{done.file_name}：{done.status}，新建 {done.created}，更新 {done.updated}，"
                        f"出错 {done.errors}")
    return done

"""培训: its pages declared on the field-work kernel (crm.fieldwork.pages): the ledger and its
workbook, recording, the record page, editing, archiving."""
from crm.common.timeutil import fmt_date
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.pages import RECORDER, Column, Detail, RecordPages, firm_names
from crm.trainings import queries, services
from crm.trainings.forms import TrainingForm
from crm.trainings.kind import hours_text


class TrainingPages(RecordPages):
    kind, name, noun, what = "training", "trainings", "培训", "培训记录"
    ledger_title, empty, again = "培训台账", "没有符合条件的培训记录。", "再记一次培训"
    reads = queries
    create_record, update_record = staticmethod(services.create_training), staticmethod(services.update_training)
    templates, form_class = "trainings", TrainingForm
    filters = {"kinds": TRAINING_CATEGORIES, "kind_label": "类别"}
    table = ["日期", "培训名称", "类别", "组织单位", "服务企业", "学时", "参训人数"]
    columns = [
        Column("日期", 12, lambda t, row: fmt_date(t.held_on), cell="date"),
        Column("培训名称", 36, lambda t, row: t.title, cell="record"),
        Column("类别", 14, lambda t, row: TRAINING_CATEGORIES.label(t.category), nowrap=True),
        Column("学时", 8, lambda t, row: hours_text(t.hours), cell="number"),
        Column("授课人", 14, lambda t, row: t.trainer, cell=""),
        Column("组织单位", 22, lambda t, row: t.org_unit.name),
        Column("服务企业", 40, firm_names, cell="firms"),
        Column("参训人数", 10, lambda t, row: t.participants, cell="number"),
        Column("内容摘要", 50, lambda t, row: t.summary, cell=""),
        RECORDER]
    details = [
        Detail("培训日期", lambda t: fmt_date(t.held_on)),
        Detail("类别", lambda t: TRAINING_CATEGORIES.label(t.category)),
        Detail("学时", lambda t: hours_text(t.hours)),
        Detail("授课人", lambda t: t.trainer),
        Detail("组织单位", lambda t: t.org_unit.name),
        Detail("参训人数", lambda t: str(t.participants)),
        Detail("内容摘要", lambda t: t.summary, pre=True)]



PAGES = TrainingPages()
bp = PAGES.blueprint("/trainings")

from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.common.forms import strip_filter
from crm.enterprises.fields import UNION_FIELDS
from crm.enterprises.forms import EnterpriseForm
from crm.founding import stages
from crm.founding.models import DOCUMENT_KINDS
from crm.sync.forms import KeyedForm


# The kind a step's documents usually are (the form starts there; the user may change it).
STAGE_DOCUMENT_KIND = {"applied": "request", "preparing": "approval", "elected": "assembly",
                       "approved": "election"}
ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def document_fields(default_kind: str = "other") -> dict:
    """The fields of an upload of scanned documents: the files, their kind, an optional title."""
    return {
        "documents": MultipleFileField("选择文件", render_kw={"accept": ACCEPT, "multiple": True}),
        "document_kind": SelectField("材料类型", choices=DOCUMENT_KINDS.form_choices(), default=default_kind),
        "document_title": StringField("材料名称（选填）", filters=[strip_filter], validators=[Length(max=100)],
                                      render_kw={"placeholder": "如：关于成立工会的请示"}),
    }


# 添加材料 to a saved founding step.
DocumentsForm = type("DocumentsForm", (KeyedForm,), document_fields())


def move_form_class(target: stages.Stage):
    """A form for moving to `target`: date, note, the stage's evidence fields, and the union
    fields of the file when the stage asks for them."""
    attrs = {
        "from_stage": HiddenField(),
        "occurred_on": DateField("日期", validators=[DataRequired("请选择日期")]),
        "note": TextAreaField("说明" if not target.is_side else "原因", filters=[strip_filter],
                              validators=[Length(max=2000)], render_kw={"rows": 3}),
        "evidence_text": TextAreaField("佐证材料（文号、会议记录、照片说明等）", filters=[strip_filter],
                                       validators=[Length(max=2000)], render_kw={"rows": 2}),
    }
    union_stage = target.key in stages.UNION_FIELD_STAGES
    for ev in target.evidence:
        if union_stage and ev.name in UNION_FIELDS:
            continue  # asked once, as the union field of the file
        if ev.kind == "date":
            attrs[f"ev_{ev.name}"] = DateField(ev.label, validators=[Optional()])
        elif ev.kind == "int":
            attrs[f"ev_{ev.name}"] = IntegerField(ev.label, validators=[
                Optional(), NumberRange(min=0, message="不能为负数")], render_kw={"min": 0})
        else:
            attrs[f"ev_{ev.name}"] = StringField(ev.label, filters=[strip_filter],
                                                 validators=[Length(max=200)])
    if target.key in stages.UNION_FIELD_STAGES:
        for name in UNION_FIELDS:
            if name == "union_credit_code" and target.key != "registered":
                continue
            attrs[name] = getattr(EnterpriseForm, name)  # the same field, same checks
    attrs.update(document_fields(STAGE_DOCUMENT_KIND.get(target.key, "other")))
    return type(f"Move_{target.key}", (KeyedForm,), attrs)

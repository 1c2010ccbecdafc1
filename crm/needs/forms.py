from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from crm.common.forms import strip_filter
from crm.common.numbers import to_int
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_STATUSES
from crm.fieldwork.forms import FieldWorkForm, not_future
from crm.needs.models import NOTE_MAX


class NeedForm(FieldWorkForm):
    category = SelectField("类别", choices=NEED_CATEGORIES.form_choices())
    status = SelectField("处理状态", choices=NEED_STATUSES.form_choices())
    detail = TextAreaField("需求意见说明", filters=[strip_filter], validators=[Length(max=2000)],
                           render_kw={"rows": 3})
    resolution = TextAreaField("解决情况", filters=[strip_filter], validators=[Length(max=2000)],
                               render_kw={"rows": 3}, description="标记为“已解决”时必填")
    resolved_on = DateField("解决日期", validators=[Optional(), not_future],
                            description="不填则为今天")


def _note(label):
    return TextAreaField(label, filters=[strip_filter], validators=[Length(max=NOTE_MAX)],
                         render_kw={"rows": 2})


class RaisedNeedsMixin:
    """需求意见 on a visit or meeting form: a box per category (`need_categories`, declared by the
    form with its own label) and beside each that need's own note (`need_note_<key>`); on an
    edit, the note of each need already raised (`raised_<id>`, with `raised_<id>_v`: the need's
    version the form showed). `need_detail` is one note for every need: what a form kept on a
    device from before the notes were per need still sends."""
    need_detail = _note("需求意见说明")
    raised: list = []

    def need_rows(self):
        """(key, label, checkbox, note field) per category, in the vocabulary's order; an edit
        leaves out the categories the record already has."""
        have = {n.category for n in self.raised}
        boxes = {opt.data: opt for opt in self.need_categories}
        return [(key, label, boxes[key], getattr(self, f"need_note_{key}"))
                for key, label in NEED_CATEGORIES if key not in have]

    def raised_rows(self):
        """(need, note field, version field) of each need already raised."""
        return [(n, getattr(self, f"raised_{n.id}"), getattr(self, f"raised_{n.id}_v")) for n in self.raised]

    def needs_data(self) -> dict:
        return {"need_categories": self.need_categories.data, "need_detail": self.need_detail.data,
                "need_notes": {key: getattr(self, f"need_note_{key}").data or "" for key, _ in NEED_CATEGORIES},
                "raised_notes": {n.id: (getattr(self, f"raised_{n.id}").data or "",
                                        to_int(getattr(self, f"raised_{n.id}_v").data))
                                 for n in self.raised}}

    def show_service_error(self, exc):
        """A note changed elsewhere since the form was opened: the message beside it, and the
        version it now has, so that saving again keeps what is typed here."""
        super().show_service_error(exc)
        version = getattr(exc, "version", None)
        if version is not None and getattr(self, f"{exc.field}_v", None) is not None:
            getattr(self, f"{exc.field}_v").data = str(version)


def add_note_fields(form_cls):
    """The note beside each category's box (`need_note_<key>`)."""
    for key, label in NEED_CATEGORIES:
        setattr(form_cls, f"need_note_{key}", _note(f"需求意见说明·{label}"))
    return form_cls


def with_raised(form_cls, needs):
    """The form class for editing a record that raised `needs`: a note field per need, filled
    with its note, and its version."""
    fields = {}
    for n in needs:
        fields[f"raised_{n.id}"] = _note(f"需求意见说明·{NEED_CATEGORIES.label(n.category)}")
        fields[f"raised_{n.id}_v"] = HiddenField()
    cls = type(form_cls.__name__, (form_cls,), {**fields, "raised": list(needs)})
    return cls

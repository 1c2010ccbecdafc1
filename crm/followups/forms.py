from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.common.numbers import coerce_id
from crm.common.forms import BaseForm, strip_filter
from crm.fieldwork.forms import FieldWorkForm, sensible_date
from crm.followups.models import PRIORITIES


class AssignForm(FieldWorkForm):
    """分派跟进任务: one firm, many firms (from the list) or many suggestions share these."""
    title = StringField("任务内容", filters=[strip_filter],
                        validators=[DataRequired("请填写任务内容"), Length(max=200)],
                        description="如：走访了解建会意向、送达换届通知")
    detail = TextAreaField("说明", filters=[strip_filter], validators=[Length(max=4000)],
                           render_kw={"rows": 2})
    assignee = SelectField("负责人", coerce=coerce_id, choices=[],
                           validate_choice=False, validators=[InputRequired("请选择负责人")])
    due_on = DateField("到期日", validators=[InputRequired("请填写到期日"), sensible_date])
    priority = RadioField("优先级", choices=list(PRIORITIES), default="medium",
                          validators=[DataRequired("请选择优先级")])


class SuggestionAssignForm(AssignForm):
    """The suggestions page: each item brings its own title."""
    title = StringField("任务内容", filters=[strip_filter], validators=[Optional(), Length(max=200)],
                        description="留空则按每条建议自动命名（如“首次走访宣传”“督促换届选举”）")


class EditForm(AssignForm):
    note = StringField("转派说明", filters=[strip_filter], validators=[Length(max=200)],
                       description="更换负责人时可写明原因，会记入修改记录")


class StatusForm(BaseForm):
    note = TextAreaField("说明", filters=[strip_filter], validators=[Length(max=2000)], render_kw={"rows": 2})


class ReassignForm(BaseForm):
    assignee = SelectField("转派给", coerce=coerce_id, choices=[], validate_choice=False,
                           validators=[InputRequired("请选择负责人")])
    note = StringField("说明", filters=[strip_filter], validators=[Length(max=200)])

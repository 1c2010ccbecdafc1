from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from crm.common.forms import strip_filter
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_STATUSES
from crm.fieldwork.forms import FieldWorkForm, not_future


class NeedForm(FieldWorkForm):
    category = SelectField("类别", choices=NEED_CATEGORIES.form_choices())
    status = SelectField("处理状态", choices=NEED_STATUSES.form_choices())
    detail = TextAreaField("需求意见说明", filters=[strip_filter], validators=[Length(max=2000)],
                           render_kw={"rows": 3})
    resolution = TextAreaField("解决情况", filters=[strip_filter], validators=[Length(max=2000)],
                               render_kw={"rows": 3}, description="标记为“已解决”时必填")
    resolved_on = DateField("解决日期", validators=[Optional(), not_future],
                            description="不填则为今天")

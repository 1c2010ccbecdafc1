from flask import current_app
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.common.numbers import coerce_id
from crm.common.forms import MultiCheckboxField, strip_filter
from crm.common.timeutil import local_today
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS
from crm.fieldwork.inputs import MAX_COUNT
from crm.fieldwork.forms import EARLIEST, FieldWorkForm, ServedEnterprisesMixin, summary_field, when_parsed
from crm.activities.services import NOT_AHEAD, PAPER_NEW_TOO_MANY, SIGNUP_AHEAD_DAYS, TOO_FAR, latest_day

NEW_MEMBERS_TOO_MANY = PAPER_NEW_TOO_MANY


def _not_above_participants(form, field):
    if field.data is not None and not field.process_errors and not form.participants.process_errors \
            and field.data > (form.participants.data or 0):
        raise ValidationError(NEW_MEMBERS_TOO_MANY)


def _day_allowed(form, field):
    """Not after today, unless the activity takes sign-ups: then up to SIGNUP_AHEAD_DAYS ahead."""
    if not field.data:
        return
    if field.data < EARLIEST:
        raise ValidationError("日期太早，请检查年份")
    if field.data > local_today() and not form.signup_open.data:
        raise ValidationError(NOT_AHEAD)
    if field.data > latest_day(True):
        raise ValidationError(TOO_FAR)


def _count_range(form, field):
    """0 … MAX_COUNT compared as integers (WTForms' NumberRange turns a 400-digit number into a
    float and fails on it)."""
    if field.data is not None and not 0 <= field.data <= MAX_COUNT:
        raise ValidationError("请填写不小于 0 的整数")


PAPER_COUNT = when_parsed(_count_range)


def _capacity_range(form, field):
    if field.data is not None and not 1 <= field.data <= current_app.config["SIGNUP_CAP"]:
        raise ValidationError(f"名额应为 1 到 {current_app.config['SIGNUP_CAP']} 之间的整数；不限名额请留空")


class ActivityForm(ServedEnterprisesMixin, FieldWorkForm):
    title = StringField("活动名称", filters=[strip_filter],
                        validators=[DataRequired("请填写活动名称"), Length(max=200)],
                        description="如：夏季站点慰问、骑手便民服务日")
    held_on = DateField("活动日期", validators=[InputRequired("请填写活动日期"), _day_allowed])
    services = MultiCheckboxField("服务内容", choices=list(SERVICES))
    point = SelectField("固定点位", choices=[], default="")
    place = StringField("地点", filters=[strip_filter], validators=[Length(max=200)],
                        description="选择固定点位时可不填，默认用点位名称")
    org_unit = SelectField("组织单位", coerce=coerce_id, choices=[], validators=[DataRequired("请选择组织单位")])
    target_groups = MultiCheckboxField("面向群体", choices=list(TARGET_GROUPS))
    partners = MultiCheckboxField("合作单位", choices=list(PARTNERS))
    # The paper counts: the totals add the sign-ups checked in (crm.activities.services.recount).
    participants = IntegerField("服务人数（纸质登记）", default=0, validators=[Optional(), PAPER_COUNT],
                                render_kw={"min": 0, "inputmode": "numeric"},
                                description="只填没有扫码报名的人（纸质登记表、现场临时来的）；"
                                            "扫码报名并签到的人自动计入，不要重复填写")
    new_members = IntegerField("新入会人数（纸质登记）", default=0,
                               validators=[Optional(), PAPER_COUNT, _not_above_participants],
                               render_kw={"min": 0, "inputmode": "numeric"},
                               description="纸质登记中新加入工会的人数；扫码报名的新会员签到后自动计入")
    signup_open = BooleanField("开放报名")
    capacity = IntegerField("名额", validators=[Optional(), when_parsed(_capacity_range)],
                            render_kw={"min": 1, "inputmode": "numeric"},
                            description="留空表示不限名额；报满后再报名的人进入候补名单，有人取消时按顺序递补")
    summary = summary_field("内容摘要", required=False)
    ahead_days = SIGNUP_AHEAD_DAYS

    def service_data(self, enterprise_ids):
        data = {name: getattr(self, name).data for name in (
            "title", "held_on", "services", "place", "org_unit", "target_groups", "partners",
            "participants", "new_members", "signup_open", "capacity", "summary")}
        data["point"] = int(self.point.data) if (self.point.data or "").isdigit() else None
        data["enterprise_ids"] = list(enterprise_ids)
        return data

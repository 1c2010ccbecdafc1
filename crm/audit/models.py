from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel

KINDS = Choices(("login_ok", "登录成功"), ("login_failed", "登录失败"), ("lockout", "登录被锁定"),
                ("denied", "拒绝访问"), ("role_change", "角色或范围变更"), ("phone_read", "查看完整电话"),
                ("export", "导出个人数据"), ("import", "导入"), ("backup", "备份"), ("restore", "恢复"),
                ("second_factor", "两步验证"), ("member", "会员与登记"),
                ("token_created", "创建 API 令牌"), ("token_revoked", "撤销 API 令牌"),
                ("webhook", "推送接口"), ("stats_rebuild", "统计重算"))


class AuditEvent(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    kind = CharField(max_length=20)
    user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    username = CharField(max_length=64, default="")  # as typed (a failed sign-in may name nobody)
    address = CharField(max_length=64, default="")
    target_kind = CharField(max_length=20, default="")  # enterprise, user, visit …
    target_id = IntegerField(null=True)
    detail = TextField(default="")

    class Meta:
        table_name = "audit_event"
        indexes = ((("kind", "at"), False), (("target_kind", "target_id", "at"), False))

    @property
    def kind_label(self):
        return KINDS.label(self.kind)

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel

STATES = Choices(("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "失败"),
                 badges={"queued": "text-bg-secondary", "running": "text-bg-info",
                         "done": "text-bg-success", "failed": "text-bg-danger"})


class Job(BaseModel):
    """One piece of long work asked for by `user`: its kind (crm.jobs.registry), its parameters
    (JSON), where it stands. A worker takes it by setting `state` running and `lease` (its token)
    with `lease_until` (renewed as it reports progress); a lease that runs out (a killed worker)
    puts the job back in the queue. `not_before`: a retry waits until then. The result is a file
    in the storage (`job_results/<result_path>`, a random name) shown as `result_name`, kept until
    `expires_at`."""
    kind = CharField(max_length=40)
    params = TextField(default="{}")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    state = CharField(max_length=10, default="queued")
    progress = IntegerField(default=0)
    progress_text = CharField(max_length=200, default="")
    attempts = IntegerField(default=0)
    max_attempts = IntegerField(default=3)
    error = CharField(max_length=500, default="")
    not_before = DateTimeField(null=True)
    lease = CharField(max_length=32, default="")
    lease_until = DateTimeField(null=True)
    result_path = CharField(max_length=200, default="")
    result_name = CharField(max_length=200, default="")
    result_type = CharField(max_length=100, default="")
    result_size = IntegerField(default=0)
    expires_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)

    class Meta:
        table_name = "job"
        indexes = ((("user", "id"), False), (("state", "lease_until"), False))

    @property
    def state_label(self):
        return STATES.label(self.state)

    @property
    def state_class(self):
        return STATES.badge(self.state)

    @property
    def is_active(self):
        return self.state in ("queued", "running")

    def downloadable(self, now=None) -> bool:
        return (self.state == "done" and bool(self.result_path) and self.expires_at is not None
                and self.expires_at > (now or utcnow()))

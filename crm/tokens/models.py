from peewee import CharField, DateTimeField, ForeignKeyField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel


class ApiToken(BaseModel):
    """A personal access token. Only the SHA-256 of its secret is kept; `prefix` (the first
    characters, not secret) tells the owner which token a row is. A revoked token keeps its row."""
    user = ForeignKeyField(User, backref="api_tokens", on_delete="RESTRICT")
    name = CharField(max_length=60)
    scope = CharField(max_length=8)  # read, write
    prefix = CharField(max_length=16)
    digest = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_token"
        indexes = ((("user", "created_at"), False),)

    def live(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now

"""The key every creating form carries, and what the form does when the server refuses it."""
from wtforms import HiddenField

from crm.common.forms import BaseForm
from crm.sync.services import KeyReused, new_form_key, valid_form_key


class KeyedForm(BaseForm):
    """form_key: the idempotency key (a new one per opened form; the page replaces it with its own
    for a form it fills from a draft or a cached copy). `refused` holds the message when the key
    came back with other content; the form then carries a fresh key and every typed value."""
    form_key = HiddenField()
    refused = None
    refused_url = None

    def ensure_key(self):
        if not valid_form_key(self.form_key.data):
            self.form_key.data = new_form_key()
        return self.form_key.data

    def refuse_key(self, message: str, url: str | None):
        self.refused, self.refused_url = message, url
        self.form_key.data = new_form_key()

    def show_service_error(self, exc):
        """A key found reused inside the service (a send that raced this one with other content)
        is refused like one found before it."""
        if isinstance(exc, KeyReused):
            self.refuse_key(str(exc), None)
            return
        super().show_service_error(exc)

    def validate_on_submit(self, extra_validators=None):
        return self.refused is None and super().validate_on_submit(extra_validators)

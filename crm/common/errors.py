class ServiceError(ValueError):
    """Bad input to a service. The message is shown to the user as it is (Chinese).

    `field` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class Conflict(ServiceError):
    """The record changed since it was read (its version moved on): nothing was written. A page
    shows the message; the API answers 409."""

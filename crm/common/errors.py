class ServiceError(ValueError):
    """Bad input to a service. The message is shown to the user as it is (Chinese).

    `field` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field

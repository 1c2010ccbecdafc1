"""一企一档 — the enterprise-visit CRM of a district trade-union federation."""


def create_app(config=None, **overrides):
    """The Flask app (crm.web.factory). `config`: a Config object or a mapping."""
    from crm.web.factory import build  # local: importing any crm module must not build the whole app
    return build(config, **overrides)

"""一企一档 — the enterprise-visit CRM of a district trade-union federation."""


def create_app(config=None, **overrides):
    """The Flask app (crm.web.factory) with the `crm` commands. `config`: a Config object or a
    mapping."""
    from crm.cli import register  # local: importing any crm module must not import the whole app
    from crm.web.factory import build  # local: (the same)
    app = build(config, **overrides)
    register(app)
    return app

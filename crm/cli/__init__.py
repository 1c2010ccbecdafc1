"""The `crm` command: serve, worker, db, user, demo, import, stats, backup, restore. One module per
command group; crm.cli.common holds what they share."""
import sys

import click
from flask.cli import FlaskGroup

from crm.cli import backup, db, demo, imports, notifications, serve, stats, token, user, webhooks, worker
from crm.web.factory import build

COMMANDS = [db.db_group, user.user_group, demo.demo_group, serve.serve, imports.import_group,
            stats.stats_group, backup.backup_command, backup.restore_command,
            token.token_group, webhooks.webhooks_group, notifications.notifications_group, worker.worker]


def register(app):
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    app = build()
    register(app)
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def cli():
    """一企一档 CRM. Configuration comes from CRM_* environment variables (see config.py)."""


def main():
    try:
        cli.main(prog_name="crm")
    except KeyboardInterrupt:
        sys.exit(130)

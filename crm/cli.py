"""The `crm` command: serve, db, user, demo."""
import sys

import click
from flask.cli import FlaskGroup


def register(app):
    from crm import cli_commands
    for command in cli_commands.COMMANDS:
        app.cli.add_command(command)


def _create_app():
    from crm import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def cli():
    """一企一档 CRM. Configuration comes from CRM_* environment variables (see config.py)."""


def main():
    try:
        cli.main(prog_name="crm")
    except KeyboardInterrupt:
        sys.exit(130)

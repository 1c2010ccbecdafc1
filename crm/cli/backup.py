"""`crm backup DEST` and `crm restore SRC` (see crm/ops for what they guarantee)."""
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from crm import storage
from crm.audit import services as audit
from crm.common.timeutil import fmt_dt
from crm.cli.common import friendly
from crm.ops import backup
from crm.ops import jobs as backup_jobs  # noqa: F401 (registers the 数据备份 job kind)


@click.command("backup", help="Copy the database and the stored files (photos, documents) into DEST (a new or empty "
                              "directory). Safe while the app is running.")
@click.argument("dest", type=click.Path(file_okay=False, path_type=str))
@with_appcontext
@friendly
def backup_command(dest):
    config = current_app.config
    manifest = backup.backup(config["DATABASE_URL"], storage.current(), dest)
    audit.record("backup", username="命令行", detail=f"{dest}：{backup.summary(manifest)}")
    click.echo(f"已备份到 {dest}：{backup.summary(manifest)}，用时 {manifest['seconds']:.2f} 秒")


@click.command("restore", help="Restore a backup made by `crm backup` into this instance, which must "
                               "be empty (no data in the database, no files in its storage).")
@click.argument("src", type=click.Path(file_okay=False, path_type=str))
@with_appcontext
@friendly
def restore_command(src):
    config = current_app.config
    manifest = backup.restore(config["DATABASE_URL"], storage.current(), src)
    audit.record("restore", username="命令行", detail=f"{src}：{backup.summary(manifest)}")
    made = datetime.strptime(manifest["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"已从 {src} 恢复：{backup.summary(manifest)}（备份时间 {fmt_dt(made)}，北京时间），"
               f"用时 {manifest['seconds']:.2f} 秒")


COMMANDS = [backup_command, restore_command]

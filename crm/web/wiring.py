"""The features that keep something in step with other features' writes (crm.common.signals):
their receivers are connected when these modules are imported, which the app factory does, and
the record kinds register themselves in crm.fieldwork.registry, the kinds of job in
crm.jobs.registry."""
from crm.activities import kind as activity_kind
from crm.activities import services as activities
from crm.followups import services as followups
from crm.imports import export as enterprise_export
from crm.imports import jobs as import_jobs
from crm.meetings import kind as meeting_kind
from crm.meetings import services as meetings
from crm.needs import kind as need_kind
from crm.notifications import services as notifications
from crm.reports import jobs as report_jobs
from crm.stats import jobs as stats_jobs
from crm.stats import services as stats
from crm.trainings import kind as training_kind
from crm.visits import kind as visit_kind
from crm.visits import services as visits
from crm.webhooks import services as webhooks

RECEIVERS = [activities, followups, meetings, notifications, stats, visits, webhooks]
KINDS = [activity_kind, meeting_kind, need_kind, training_kind, visit_kind]
JOBS = [enterprise_export, import_jobs, report_jobs, stats_jobs]  # the kinds of 后台任务 (crm.jobs.registry)

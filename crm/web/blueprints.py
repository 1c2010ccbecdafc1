"""Every blueprint of the app, in the order they are registered."""
from crm.activities.views import bp as activities
from crm.admin.views import bp as admin
from crm.audit.views import bp as audit
from crm.auth.views import bp as auth
from crm.compliance.views import bp as compliance
from crm.dashboard.views import bp as dashboard
from crm.enterprises.views import bp as enterprises
from crm.followups.views import bp as followups
from crm.founding.views import bp as founding
from crm.help.views import bp as help_pages
from crm.home.views import bp as home
from crm.imports.views import bp as imports
from crm.jobs.views import bp as jobs
from crm.meetings.views import bp as meetings
from crm.members.views import bp as members
from crm.needs.views import bp as needs
from crm.notifications.views import bp as notifications
from crm.photos.views import bp as photos
from crm.reports.views import bp as reports
from crm.roster.views import bp as roster
from crm.sync.views import bp as sync
from crm.tokens.views import bp as tokens
from crm.trainings.views import bp as trainings
from crm.visits.views import bp as visits
from crm.webhooks.views import bp as webhooks

BLUEPRINTS = [auth, tokens, home, admin, enterprises, founding, visits, photos, needs, meetings, trainings,
              activities, members, roster, followups, compliance, dashboard, reports, imports, audit, sync,
              webhooks, help_pages, notifications, jobs]

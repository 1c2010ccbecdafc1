"""Every model, in dependency order: migrations, tests and the schema check use this list."""
from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.audit.models import AuditEvent
from crm.auth.models import LoginThrottle, RecoveryCode, User
from crm.compliance.models import RuleSetting
from crm.enterprises.models import BulkAction, Contact, Enterprise, EnterpriseChange
from crm.fieldwork.models import RecordChange
from crm.followups.models import FollowUp
from crm.imports.models import ImportBatch
from crm.jobs.models import Job
from crm.founding.models import FoundingDocument, FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers, OutreachPoint
from crm.members.models import Member, SignUp, SignUpThrottle
from crm.needs.models import Need
from crm.notifications.models import Notification, NotificationOptOut
from crm.org.models import OrgUnit
from crm.photos.models import Photo
from crm.settings.models import Setting
from crm.stats.models import FirmStat, StageStay, UnitStat
from crm.sync.models import FormSubmission
from crm.tokens.models import ApiToken
from crm.trainings.models import Training, TrainingEnterprise
from crm.visits.models import Visit, VisitComment, VisitContact, VisitVisitor
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

MODELS = [OrgUnit, User, RecoveryCode, LoginThrottle, Enterprise, Contact, EnterpriseChange, BulkAction,
          FoundingEvent, FoundingDocument, RecordChange, Photo, Visit, VisitVisitor, VisitComment, VisitContact, OutreachPoint, Meeting,
          MeetingNewMembers, MeetingEnterprise, Training, TrainingEnterprise, ServiceActivity,
          ActivityEnterprise, Member, SignUp, SignUpThrottle, Need, Setting, FollowUp, RuleSetting, ImportBatch,
          UnitStat, StageStay, FirmStat, FormSubmission, AuditEvent, Notification, NotificationOptOut, ApiToken,
          WebhookEndpoint, WebhookDelivery, Job]

"""Every model, in dependency order: migrations, tests and the schema check use this list."""
from crm.auth.models import LoginThrottle, User
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.founding.models import FoundingEvent
from crm.org.models import OrgUnit

MODELS = [OrgUnit, User, LoginThrottle, Enterprise, Contact, EnterpriseChange, FoundingEvent]

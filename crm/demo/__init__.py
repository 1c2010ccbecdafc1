"""Demo data: the ordinary demo (crm.demo.firms, with its field work and follow-ups) and the
district-scale data set for benchmarks (crm.demo.district)."""
from crm.demo.firms import existing_logins, is_empty, load_demo
from crm.demo.vocabulary import DEMO_PASSWORD, DemoLogin

__all__ = ["DEMO_PASSWORD", "DemoLogin", "existing_logins", "is_empty", "load_demo"]

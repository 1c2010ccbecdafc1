"""Where the app's files are: templates and migrations ship inside the package (crm/_templates
and crm/_migrations are links to the checkout's templates/ and migrations/, copied into a
wheel), and the default instance folder (data, uploads, the generated secret)."""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "_templates"
MIGRATIONS_DIR = PACKAGE_DIR / "_migrations"
STATIC_DIR = PACKAGE_DIR / "static"
DATA_DIR = PACKAGE_DIR / "data"
# A checkout keeps its instance beside the code; an installed package uses ./instance of the
# folder it is started from.
_CHECKOUT = PACKAGE_DIR.parent
INSTANCE_DIR = (_CHECKOUT / "instance" if (_CHECKOUT / "pyproject.toml").is_file() and
                (_CHECKOUT / "migrations").is_dir() else Path.cwd() / "instance")

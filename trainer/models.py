"""Import every area's models so metadata (Alembic, create_all) sees all tables."""

from trainer.accounts import models as accounts_models  # noqa: F401
from trainer.audit import models as audit_models  # noqa: F401
from trainer.certificates import backlog_models as certificates_backlog_models  # noqa: F401
from trainer.certificates import models as certificates_models  # noqa: F401
from trainer.courses import models as courses_models  # noqa: F401
from trainer.exams import models as exams_models  # noqa: F401
from trainer.questions import models as questions_models  # noqa: F401

"""Flask extensions, created unbound here and bound in the app factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from examsys.core.csrf import RememberingCSRFProtect


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = RememberingCSRFProtect()
babel = Babel()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://... when shared).
limiter = Limiter(key_func=get_remote_address, default_limits=[])

"""examsys: certification exams for the lithium-battery industry."""

from pathlib import Path

from flask import Flask, has_request_context, request, session
from flask.ctx import _AppCtxGlobals
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from examsys import config
from examsys.core import ratelimits
from examsys.core.cookies import RememberingSessionInterface
from examsys.core.routing import RowNumberConverter
from examsys.extensions import babel, csrf, db, limiter, login_manager, migrate

# The top-level migrations/ folder of the checkout (the app is installed editable).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def select_locale() -> str:
    """The user's own setting, else the one chosen on the page, else the browser's."""
    if not has_request_context():
        return "en"  # the CLI and background jobs speak English
    # No cookie, no login and no language chosen: spare the public API's cookieless
    # requests (verification, the busiest) loading nobody.
    if request.cookies:
        if current_user and current_user.is_authenticated and current_user.locale:
            return current_user.locale
        if chosen := session.get("locale"):
            return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default="en")
    return "zh_CN" if best.startswith("zh") else "en"


class AppGlobals(_AppCtxGlobals):
    """``g``, with ``g.lang`` ("zh" or "en") worked out on first use.

    Choosing the language may load the user; an autosave that succeeds never says a word,
    so it should not pay for that.
    """

    @property
    def lang(self) -> str:
        if "_lang" not in self.__dict__:
            self.__dict__["_lang"] = "zh" if str(select_locale()).startswith("zh") else "en"
        return self.__dict__["_lang"]

    @lang.setter
    def lang(self, value: str) -> None:
        self.__dict__["_lang"] = value


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowNumberConverter  # before any route is added
    app.app_ctx_globals_class = AppGlobals
    app.session_interface = RememberingSessionInterface()
    config.load(app, overrides)
    if hops := app.config["PROXY_HOPS"]:
        # Behind a load balancer every request comes from it: take the client's address
        # (rate limits, integrity logs) and scheme from the headers it sets.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    ratelimits.check_decorated_routes_only(app, limiter)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the login session row is the protection
    login_manager.login_view = "accounts.login"

    from examsys.core.database import configure_engine
    from examsys.exams import form_cache

    with app.app_context():
        configure_engine(db.engine, ping_after_idle=app.config["DB_PING_AFTER_IDLE"])
        form_cache.for_engine(db.engine, app.config["FORM_CACHE_ATTEMPTS"])

    _import_models()
    _register_blueprints(app)

    from examsys.core.errors import register_error_handlers
    from examsys.core.security import register_security

    register_error_handlers(app)
    register_security(app)

    from examsys.cli import register_cli

    register_cli(app)

    from examsys.core.labels import TEMPLATE_GLOBALS

    app.jinja_env.globals.update(TEMPLATE_GLOBALS)

    @app.context_processor
    def _globals():
        from flask_babel import get_locale

        lang = str(get_locale() or "en")
        return {"current_lang": lang, "issuer_names": config.issuer_names(app.config),
                "issuer": config.issuer_name(app.config, lang)}

    return app


def _import_models() -> None:
    # Every model module, so that metadata (and Alembic) sees every table.
    from examsys import hot_path_indexes as _indexes  # noqa: F401
    from examsys.accounts import models as _accounts  # noqa: F401
    from examsys.bank import models as _bank  # noqa: F401
    from examsys.certs import models as _certs  # noqa: F401
    from examsys.core import audit as _audit  # noqa: F401
    from examsys.core import mail as _mail  # noqa: F401
    from examsys.exams import models as _exams  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from examsys.accounts.api import bp as accounts_api
    from examsys.accounts.views import bp as accounts
    from examsys.bank.views import bp as bank
    from examsys.certs.api import bp as certs_api
    from examsys.certs.views import bp as certs
    from examsys.exams.api import bp as exams_api
    from examsys.exams.candidate_views import bp as candidate
    from examsys.exams.staff_views import bp as staff

    for blueprint in (accounts, bank, candidate, staff, certs):
        app.register_blueprint(blueprint)
    for blueprint in (accounts_api, exams_api, certs_api):
        app.register_blueprint(blueprint, url_prefix="/api/v1")
    from examsys.certs.public_views import bp as certs_public
    from examsys.certs.staff_views import bp as certs_staff

    app.register_blueprint(certs_public)
    app.register_blueprint(certs_staff)
    from examsys.bank.interchange_views import bp as bank_interchange

    app.register_blueprint(bank_interchange)

"""The production app, plus the ceiling routes when EXAMSYS_BENCH_ROUTES=1.

gunicorn -c gunicorn.conf.py benchmarks.bench_wsgi:app
"""

from benchmarks.bench_routes import register
from examsys import create_app

app = create_app()
register(app)

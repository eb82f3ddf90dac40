"""WSGI entry point for production servers: gunicorn wsgi:app"""

from examsys import create_app

app = create_app()

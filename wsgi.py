"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

from campus import create_app

app = create_app()

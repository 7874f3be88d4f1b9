"""The Celery worker process: `celery -A workers worker` (add --beat, or run beat once apart)."""

from campus import create_app
from workers.schedule import beat_schedule

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = beat_schedule()

"""The Celery worker process: `celery -A workers worker` (add --beat, or run beat once apart)."""

from campus import create_app
from workers.schedule import BEAT_SCHEDULE

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = BEAT_SCHEDULE

"""The Celery worker process: `celery -A workers worker` (add --beat, or run beat once apart)."""

from campus.observability.worker import install, prepare_metrics_dir

prepare_metrics_dir()  # before the metrics are created: they pick their storage at import

from campus import create_app  # noqa: E402
from workers.schedule import beat_schedule  # noqa: E402

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = beat_schedule()
install(app, flask_app.config)

"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

import gc

from campus import create_app

app = create_app()

# The app's ~175,000 long-lived objects (modules, models, templates) would otherwise be scanned by
# every full collection, a pause of 100-200 ms for all of a worker's threads; frozen, they are
# left out of collections (and, were the app preloaded, not copied into each forked worker).
gc.freeze()

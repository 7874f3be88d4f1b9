"""Gunicorn settings of every server started from this folder (gunicorn reads this file itself).

`./dev serve`, the benchmarks and the tests run gunicorn here. The image needs nothing of it:
there gunicorn is PID 1, and only the master is ever signalled.
"""

import signal


def post_worker_init(worker) -> None:
    """Leave Ctrl+C to the master: a worker ignores SIGINT and stops when the master says so."""
    # A terminal's Ctrl+C reaches the master and each worker at once, and the master then sends
    # every worker SIGQUIT. A gthread worker that gets both may deadlock in its thread pool's
    # shutdown (the handler is not re-entrant) until the master kills it 30 s later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

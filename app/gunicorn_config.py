"""gunicorn's settings for the Procfile's `web` (`--config python:app.gunicorn_config`); the
command line still sets the workers and the address."""
import gc


def post_worker_init(worker):
    # Everything loaded to start the app (SQLAlchemy, the templates, the instruments) lives as long
    # as the worker: frozen, the collector stops walking it on each full collection, which cost a
    # page opened during one up to ~200 ms more (the person's page's p99).
    gc.collect()
    gc.freeze()

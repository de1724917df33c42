"""gunicorn's settings for the Procfile's `web` (`--config python:app.gunicorn_config`); the
command line still sets the workers and the address."""
import gc


def post_worker_init(worker):
    # Jinja compiles a template on its first use: without this, the first page of each kind a
    # worker served after a deploy or restart took 100-250 ms longer (a p99 of its own).
    compile_templates(worker.wsgi)
    engine = worker.wsgi.extensions.get("fieldline.engine")
    if engine is not None:  # and the first request need not wait for the database's handshake
        with engine.connect():
            pass
    # Everything loaded to start the app (SQLAlchemy, the templates, the instruments) lives as long
    # as the worker: frozen, the collector stops walking it on each full collection, which cost a
    # page opened during one up to ~200 ms more (the person's page's p99).
    gc.collect()
    gc.freeze()


def compile_templates(app) -> int:
    """Load every template the app can render into Jinja's cache; how many there are."""
    names = app.jinja_env.list_templates()
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)

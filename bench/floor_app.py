"""The floor for bench/contact_load.py: a Flask app whose POST is one durable INSERT and nothing
else (no sign-in, CSRF, form, idempotency key or audit row), through Fieldline's own engine
settings (SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE; or PostgreSQL), served the same way.
What this can't do on a machine, no request of Fieldline's that writes can either.

Served by contact_load.py as: gunicorn "bench.floor_app:create_app()".
"""
import os
from pathlib import Path

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from app.db import make_engine

metadata = MetaData()
rows = Table("bench_floor", metadata, Column("id", Integer, primary_key=True), Column("note", String(200)))


def database_url(env=os.environ) -> str:
    return env.get("DATABASE_URL") or f"sqlite:///{Path(env['FIELDLINE_INSTANCE']) / 'floor.db'}"


def create_app() -> Flask:
    engine = make_engine(database_url())
    app = Flask(__name__)

    @app.post("/floor")
    def write_one_row():
        with engine.begin() as connection:
            connection.execute(insert(rows).values(note=request.form.get("notes", "")[:200]))
        return "", 204

    return app

import json
from io import BytesIO

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from PIL import Image
from sqlmodel import SQLModel

import app.models  # noqa: F401


def test_migrations_build_exactly_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    manifest = json.loads(response.get_data())
    assert response.headers["Content-Type"] == "application/manifest+json"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = Image.open(BytesIO(client.get(icon["src"]).get_data()))
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_service_worker_is_versioned_by_the_shell_contents(client):
    body = client.get("/sw.js").get_data(as_text=True)
    assert "__FIELDLINE_VERSION__" not in body and "__FIELDLINE_PRECACHE__" not in body
    assert '"/offline"' in body
    assert "/static/js/vendor/htmx-2.0.11.min.js?v=" in body


def test_offline_page_holds_no_personal_data_and_may_be_cached(worker_client):
    response = worker_client.get("/offline")
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.get_data(as_text=True)
    assert "Wren" not in html and "csrf" not in html.lower()

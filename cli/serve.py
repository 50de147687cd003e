"""`cdss serve` and `cdss keys`: the HTTP API and its keys."""

from __future__ import annotations

import json

import click

from cdss.settings import load_settings

EXAMPLE = {
    "text": "Three days of fever and productive cough. No chest pain. Mother had breast cancer.",
    "image_findings": [{"label": "Consolidation", "probability": 0.91, "model": "chexnet-densenet121"}],
    "age": 54,
    "sex": "female",
    "top_k": 5,
}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo-key", is_flag=True, help="Create a read key and print a ready-to-paste curl example.")
def serve_command(host: str, port: int, demo_key: bool) -> None:
    """Serve the API for development (production: gunicorn -c gunicorn.conf.py api.wsgi:app)."""
    from api import create_app
    from api.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    if demo_key:
        key, token = app.extensions["cdss"].keys.create("demo key from cdss serve --demo-key", ["read"])
        click.echo(f"created API key {key.id} (read; revoke with `cdss keys revoke {key.id}`). Try, once ready:")
        click.echo(
            f"  curl -s http://{host}:{port}/v1/recommendations -H 'Authorization: Bearer {token}' "
            f"-H 'Content-Type: application/json' -d '{json.dumps(EXAMPLE)}'"
        )
    click.echo(
        f"serving on http://{host}:{port} (docs at /docs); /readyz turns true once the graph is loaded", err=True
    )
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@click.group("keys")
def keys() -> None:
    """API keys (created with scopes, stored as hashes, revoked by id) and the data key that seals record text."""


def _store():
    from api.keys import KeyStore

    return KeyStore(load_settings().api_keys)


@keys.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("read",),
    show_default=True,
    type=click.Choice(["read", "ingest", "admin"]),
)
def create_command(name: str, scopes: tuple[str, ...]) -> None:
    """Make a key; its token is printed once and cannot be shown again."""
    key, token = _store().create(name, list(scopes))
    click.echo(
        f"created key {key.id} ({', '.join(key.scopes)}) for {key.name}; keep this token, it is shown once:", err=True
    )
    click.echo(token)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Every key: id, name, scopes, when made and when revoked (never the token)."""
    found = _store().list()
    if as_json:
        click.echo(json.dumps([k.to_dict() for k in found], indent=2))
        return
    for key in found:
        state = f"revoked {key.revoked}" if key.revoked else "active"
        click.echo(f"{key.id}  {','.join(key.scopes):<18} {key.created}  {state:<28} {key.name}")


@keys.command("revoke")
@click.argument("key_id")
def revoke_command(key_id: str) -> None:
    """Revoke a key by id; requests with it fail from then on."""
    key = _store().revoke(key_id)
    click.echo(f"revoked {key.id} ({key.name}) at {key.revoked}")


@keys.command("rotate-data-key")
def rotate_data_key_command() -> None:
    """Reseal all stored record text under a new data key and drop the old ones; stop ingesting first."""
    from cdss.sealing import rotate_data_key
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings) as store:
        done = rotate_data_key(store, keyring_path=settings.data_key_file, batch_size=settings.batch_size)
    click.echo(
        f"data key {done['active']} is active: resealed the text of {done['resealed']} of {done['records']} "
        f"records, dropped {done['old_keys_dropped']} old key(s) from {settings.data_key_file}"
    )

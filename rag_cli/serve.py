"""`rag serve [--host 127.0.0.1] [--port 8000] [--allow-public]`: the REST API and the chat page.

The server owns its data dir: it announces itself there (`server.json`: address, pid, a local credential)
once it listens, and the rag commands on that data dir go through it (see rag/local)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from rag_core.errors import ConfigError
from rag_core.settings import Settings, load_settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: Settings, allow_public: bool) -> None:
    """Refuse to expose an API without keys on a non-loopback address unless told to."""
    if is_loopback(host) or settings.api_keys or allow_public or settings.api.allow_public_bind:
        return
    raise ConfigError(
        f"refusing to listen on {host}: no API keys are configured, so anyone who can reach it could read "
        "and change your documents",
        hint="set RAG_API_KEYS=key1,key2, or pass --allow-public if the network is trusted",
    )


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    allow_public: Annotated[
        bool, typer.Option("--allow-public", help="listen on a non-loopback address without API keys")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Run the REST API (OpenAPI docs at /docs) and the chat page (/) with uvicorn."""
    settings = load_settings()
    check_bind(host, settings, allow_public)
    from api.app import create_app
    from rag.local.announcement import Announcement
    from rag.local.serving import own_data_dir

    def say(message: str) -> None:
        typer.echo(f"rag: {message}", err=True)

    with own_data_dir(settings, say):
        from api.announcing_server import serve_announced

        announcement = Announcement.new("")
        app = create_app(settings, local_token=announcement.token)
        say(f"serving http://{host}:{port}/ (API docs: /docs, data: {settings.data_dir})")
        serve_announced(app, settings.data_dir, announcement, host=host, port=port, log_level=log_level)

"""`rlvr serve`: the reward server (rlvr.server) under uvicorn, or on a Ray cluster through Ray Serve."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console

LOCAL_RAY = (
    "local"  # what a bare `--ray` means: ray.init() with no address (a running cluster, else a new one)
)


def serve(
    verifier: Annotated[
        list[str],
        typer.Option(
            "--verifier",
            "-V",
            help="A complete spec (e.g. 'math=1.0,format=0.2;gate=format'); repeat to serve several. "
            "The first is the default.",
        ),
    ] = ["math"],  # noqa: B006 - typer reads the default
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Verifier worker processes (default: CPUs, at most 8).", min=1)
    ] = None,
    max_queue: Annotated[
        int, typer.Option(help="Items accepted at once; more are answered 429.", min=1)
    ] = 1024,
    token: Annotated[
        str | None,
        typer.Option(envvar="RLVR_SERVER_TOKEN", help="Bearer token the scoring endpoints require."),
    ] = None,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body (413 beyond).", min=0.01)] = 32.0,
    sandbox: Annotated[str, typer.Option(help="Sandbox backend behind /run_code.")] = "local",
    ray: Annotated[
        str | None,
        typer.Option(
            flag_value=LOCAL_RAY,
            help="Serve through Ray Serve on the cluster at ADDRESS (bare --ray: the running one, else a new one).",
        ),
    ] = None,
    replicas: Annotated[int, typer.Option(help="Ray Serve replicas (with --ray).", min=1)] = 1,
) -> None:
    """Serve rewards over HTTP: /score, /get_reward (OpenRLHF), /run_code (SandboxFusion), /metrics."""
    from rlvr.server import ServerConfig

    config = ServerConfig(
        verifiers=verifier,
        workers=workers,
        max_queue=max_queue,
        token=token,
        max_body_bytes=int(max_body_mb * (1 << 20)),
        sandbox=sandbox,
    )
    if ray is not None:
        from rlvr.server.ray_serve import run_on_ray

        console.print(f"rlvr serve: {replicas} replica(s) on Ray at http://{host}:{port}")
        run_on_ray(config, None if ray == LOCAL_RAY else ray, replicas=replicas, host=host, port=port)
        return
    import uvicorn

    from rlvr.server import app_from_config

    app = app_from_config(config)  # builds every verifier now: a bad spec fails before the port opens
    console.print(f"rlvr serve: {', '.join(config.verifiers)} on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)

"""The same app behind Ray Serve's router: `rlvr serve --ray [ADDRESS] --replicas N`.

Each replica builds its own app (verifiers, worker pool, metrics) from the picklable
`ServerConfig`, so replicas can sit on any node that has rlvr installed.  Ray Serve's HTTP proxy
spreads requests over the replicas; every replica applies its own --max-queue.
"""

from __future__ import annotations

from rlvr.log import get_logger

from .service import ServerConfig

log = get_logger(__name__)
APP_NAME = "rlvr"


def deployment(config: ServerConfig, replicas: int = 1, num_cpus: float | None = None):
    """A bound Ray Serve application serving `config` on `replicas` replicas; each replica reserves
    `num_cpus` (default: its worker pool's size, so Ray places replicas where the cores are)."""
    from ray import serve

    def build_app():
        from rlvr.server.app import app_from_config

        return app_from_config(config)

    ingress = serve.ingress(build_app)()
    return serve.deployment(
        ingress,
        name="RewardServer",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": config.pool_workers if num_cpus is None else num_cpus},
        max_ongoing_requests=max(8, config.request_threads),
    ).bind()


def start(
    config: ServerConfig,
    address: str | None = None,
    *,
    replicas: int = 1,
    host: str = "127.0.0.1",
    port: int = 8000,
    num_cpus: float | None = None,
) -> str:
    """Connect to (or start) Ray, deploy, and return the URL; the deployment outlives this call."""
    import ray
    from ray import serve

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    serve.start(http_options={"host": host, "port": port})
    serve.run(deployment(config, replicas, num_cpus), name=APP_NAME, route_prefix="/")
    return f"http://{host}:{port}"


def run_on_ray(config: ServerConfig, address: str | None, *, replicas: int, host: str, port: int) -> None:
    """`start`, then keep the driver alive until SIGINT or SIGTERM, and take the app down."""
    import signal
    import threading

    from ray import serve

    stop = threading.Event()
    # our own handlers: a signal ends the wait, and the teardown below runs to its end instead of
    # being cut by a KeyboardInterrupt; installed before start-up and again after it (ray.init
    # installs its own), and a KeyboardInterrupt that still gets through counts as a stop too
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def catch_signals() -> None:
        for sig in previous:
            signal.signal(sig, lambda *_: stop.set())

    catch_signals()
    started = False
    try:
        url = start(config, address, replicas=replicas, host=host, port=port)
        started = True
        catch_signals()
        log.info("serving on Ray at %s", url)
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if started:
            log.info("taking the Ray Serve app down")
            serve.delete(APP_NAME)
            serve.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

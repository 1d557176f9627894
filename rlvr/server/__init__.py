"""The reward server: rlvr's verifiers and sandbox over HTTP (the `server` extra).

    from rlvr.server import create_app
    app = create_app(["math", "math=1.0,format=0.2"], workers=4, max_queue=1024)

Endpoints: POST /score (rlvr), POST /get_reward (OpenRLHF's remote reward model), POST /run_code
(SandboxFusion), GET /health, GET /metrics (Prometheus), OpenAPI at /openapi.json.  Run it with
`rlvr serve`; call it with `rlvr.client`.
"""

from __future__ import annotations

from .app import app_from_config, create_app
from .service import ServerConfig

__all__ = ["ServerConfig", "app_from_config", "create_app"]

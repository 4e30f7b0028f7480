"""`python -m dailies.engine` (or `dailies-engine`): serve the engine on its own."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from ..server_tick import QuietServer
from . import EngineConfig, Faults, WebhookFaults, create_app
from .encoding import PRESET_VAR, PRESETS, Encoding


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dailies-engine", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DAILIES_HOME", ".dailies")) / "engine")
    parser.add_argument(
        "--api-key-env",
        default=None,
        help="name of an environment variable holding the key to require (never pass keys as flags)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lifetime-s", type=int, default=24 * 3600)
    parser.add_argument("--min-job-s", type=float, default=0.0)
    parser.add_argument("--poll-after-ms", type=int, default=None)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--rate-5xx", type=float, default=0.0)
    parser.add_argument("--rate-failed", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-stall", type=float, default=0.0)
    parser.add_argument("--stall-s", type=float, default=5.0)
    parser.add_argument("--rate-drop", type=float, default=0.0)
    parser.add_argument("--blocked-term", action="append", default=[])
    parser.add_argument("--fault-seed", type=int, default=None)
    parser.add_argument("--rate-429-create", type=float, default=0.0, help="fraction of creates answered 429")
    parser.add_argument("--webhook-drop", type=float, default=0.0, help="fraction of webhook events never sent")
    parser.add_argument("--webhook-delay-s", type=float, default=0.0, help="wait before each event's first attempt")
    parser.add_argument("--webhook-duplicate", type=float, default=0.0, help="fraction of events sent twice")
    parser.add_argument("--webhook-reorder", type=float, default=0.0, help="fraction held until the next event")
    parser.add_argument("--served-model-name", action="append", default=[],
                        help="serve only this model name (repeat for more), as a one-model server such as vLLM-Omni")
    parser.add_argument("--refuse-operation", action="append", default=[],
                        choices=("remix", "extend", "edit", "characters"),
                        help="answer this operation as a server without its route (404/405), as vLLM-Omni does")
    parser.add_argument("--preset", choices=PRESETS, default=None,
                        help=f"x264's speed preset for renders (default: {PRESET_VAR}, else veryfast; ultrafast "
                             "renders about 40%% quicker for about twice the bytes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    faults = Faults(
        rate_429=args.rate_429,
        rate_429_create=args.rate_429_create,
        retry_after_s=args.retry_after_s,
        rate_5xx=args.rate_5xx,
        rate_failed_jobs=args.rate_failed,
        latency_ms=args.latency_ms,
        rate_stall_download=args.rate_stall,
        stall_s=args.stall_s,
        rate_drop_download=args.rate_drop,
        blocked_terms=tuple(args.blocked_term),
        refuse_operations=tuple(args.refuse_operation),
        seed=args.fault_seed,
    )
    config = EngineConfig(
        data_dir=args.data_dir,
        api_key=os.environ.get(args.api_key_env) if args.api_key_env else None,
        workers=args.workers,
        lifetime_s=args.lifetime_s,
        min_job_s=args.min_job_s,
        poll_after_ms=args.poll_after_ms,
        faults=faults,
        webhook_faults=WebhookFaults(rate_drop=args.webhook_drop, delay_s=args.webhook_delay_s,
                                     rate_duplicate=args.webhook_duplicate, rate_reorder=args.webhook_reorder,
                                     seed=args.fault_seed),
        # Bound to every interface, the engine cannot know its names: any Host is answered (use --api-key-env).
        allowed_hosts=("*",) if args.host in ("0.0.0.0", "::", "") else (args.host,),
        served_models=tuple(args.served_model_name),
        encoding=Encoding(preset=args.preset) if args.preset else Encoding.from_environment(),
    )
    public_host = "127.0.0.1" if args.host in ("0.0.0.0", "", "::") else args.host
    app = create_app(config, base_url=f"http://{public_host}:{args.port}/v1")
    QuietServer(uvicorn.Config(app, host=args.host, port=args.port, log_level="info")).run()


if __name__ == "__main__":
    main()

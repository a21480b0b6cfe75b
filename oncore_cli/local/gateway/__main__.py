"""Run the gateway: `python -m oncore_cli.local.gateway --config STATE.json` (started by `oncore local start`)."""

from __future__ import annotations

import argparse
from pathlib import Path


# Requests (one line each, with the time: logs.AccessLog on stdout) and errors go to gateway.log:
# `oncore local logs -s gateway` shows them.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(message)s"}},
    "filters": {"redact": {"()": "oncore_cli.local.gateway.logs.RedactSecrets"}},
    "handlers": {
        "default": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr",
                    "filters": ["redact"]},
    },
    "loggers": {"uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False}},
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="oncore-gateway")
    parser.add_argument("--config", required=True, type=Path)
    args = parser.parse_args()

    import uvicorn

    from oncore_cli.local.gateway.app import create_app
    from oncore_cli.local.gateway.config import GatewayConfig
    from oncore_cli.local.gateway.http import protocol_with
    from oncore_cli.local.gateway.logs import AccessLog

    config = GatewayConfig.load(args.config)
    uvicorn.run(AccessLog(create_app(config)), host=config.host, port=config.port, log_config=LOG_CONFIG,
                http=protocol_with(config.header_timeout), timeout_keep_alive=config.idle_timeout,
                access_log=False, lifespan="on", ws="auto", proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()

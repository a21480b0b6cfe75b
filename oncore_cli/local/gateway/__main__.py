"""Run the gateway: `python -m oncore_cli.local.gateway --config STATE.json` (started by `oncore local start`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="oncore-gateway")
    parser.add_argument("--config", required=True, type=Path)
    args = parser.parse_args()

    import uvicorn

    from oncore_cli.local.gateway.app import create_app
    from oncore_cli.local.gateway.config import GatewayConfig
    from oncore_cli.local.gateway.http import protocol_with

    config = GatewayConfig.load(args.config)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning",
                http=protocol_with(config.header_timeout), timeout_keep_alive=config.idle_timeout,
                access_log=False, lifespan="on", ws="auto", proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()

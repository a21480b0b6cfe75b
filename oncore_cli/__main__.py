"""Entry point for `oncore` and `python -m oncore_cli`."""


def main() -> None:
    from oncore_cli.app import run

    run()


if __name__ == "__main__":
    main()

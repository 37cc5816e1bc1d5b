"""``python -m services.notifier run|migrate``"""

from pathlib import Path

from services.common.cli import service_cli
from services.common.settings import ServiceSettings
from services.notifier.service import NAME, build

cli = service_cli(NAME, ServiceSettings, build, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()

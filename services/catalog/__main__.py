"""``python -m services.catalog run|migrate``"""

from pathlib import Path

from services.catalog.service import NAME, build
from services.common.cli import service_cli
from services.common.settings import ServiceSettings

cli = service_cli(NAME, ServiceSettings, build, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()

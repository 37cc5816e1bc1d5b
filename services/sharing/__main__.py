"""``python -m services.sharing run|migrate``"""

from pathlib import Path

from services.common.cli import service_cli
from services.sharing.config import SharingSettings
from services.sharing.service import NAME, build

cli = service_cli(NAME, SharingSettings, build, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()

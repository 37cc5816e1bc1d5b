"""``python -m services.capture run|migrate``"""

from pathlib import Path

from services.capture.config import CaptureSettings
from services.capture.service import NAME, build
from services.common.cli import service_cli

cli = service_cli(NAME, CaptureSettings, build, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()

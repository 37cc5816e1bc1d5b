"""The backup team's own schemas package (same top-level name as IMS's)."""

BACKUP_RECORD_VERSION = 3

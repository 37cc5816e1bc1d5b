"""The backup team's own services package (same top-level name as IMS's)."""

"""The local real stack of IMS: Kafka and PostgreSQL as plain processes, plus the services.

`ims-stack` (``deploy.stack.cli``) drives it; the test fixtures reuse the same modules with a
temporary state directory. Nothing here runs at import time.
"""

"""All of the catalog's SQL (asyncpg), in its own schema: :class:`CatalogStore`, made on the
connection of a unit of work or of a read. No other module of the catalog writes SQL.

One mixin per concern (images, accounts, capture requests, changes, public images,
memberships); the handlers see it through ``services.catalog.ports.Store``.
"""

from services.catalog.store.accounts import AccountsSql
from services.catalog.store.changes import ChangesSql
from services.catalog.store.images import ImagesSql
from services.catalog.store.memberships import MembershipsSql
from services.catalog.store.public import PublicSql
from services.catalog.store.requests import RequestsSql


class CatalogStore(AccountsSql, ChangesSql, ImagesSql, MembershipsSql, PublicSql, RequestsSql):
    """The catalog's store on one connection (``CatalogStore(conn)``)."""


__all__ = ["CatalogStore"]

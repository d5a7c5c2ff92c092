"""The metadata store: tables, engine and migrations. Internal to Workbench."""

from workbench.store.engine import Store, open_store

__all__ = ["Store", "open_store"]

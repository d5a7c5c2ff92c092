"""Users, teams and API tokens; who may see what."""

from workbench.tenancy.service import Principal, Tenancy

__all__ = ["Principal", "Tenancy"]

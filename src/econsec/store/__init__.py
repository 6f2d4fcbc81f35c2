"""Persistence: the embedded DuckDB workspace."""

from econsec.store.workspace import Workspace, WorkspaceError

__all__ = ["Workspace", "WorkspaceError"]

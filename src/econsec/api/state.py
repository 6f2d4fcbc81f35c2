"""Server state: the workspace and a screener kept in step with its lists.

Building the screener takes seconds, so it is built once at start-up and then
rebuilt in a background thread whenever the active list versions change (a
`econsec lists load` from another process); requests keep using the previous
screener until the new one is ready, so no request sees a half-built index.
Other writes to the workspace (decisions, batch runs, ownership graphs) change
the database file but not the lists, and do not trigger a rebuild.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from econsec.screening import Screener
from econsec.screening.cache import cached_screener
from econsec.store import Workspace, WorkspaceError

log = logging.getLogger(__name__)


@dataclass
class AppState:
    workspace: Workspace
    _screener: Screener | None = None
    #: The active list versions the screener was built over.
    _versions: frozenset[str] | None = None
    #: The database file's modification time when ``_versions`` was last checked:
    #: a cheap test that spares a query on every request.
    _stamp: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rebuilding: bool = False

    def _db_stamp(self) -> float | None:
        try:
            return self.workspace.db_path.stat().st_mtime
        except FileNotFoundError:
            return None

    def _active_versions(self) -> frozenset[str]:
        return frozenset(v.version_id for v in self.workspace.versions(active_only=True))

    def load(self) -> Screener:
        """Build the screener now (start-up), replacing any previous one."""
        stamp = self._db_stamp()
        screener = cached_screener(self.workspace)
        versions = frozenset(v.version_id for v in screener.versions)
        with self._lock:
            self._screener, self._versions, self._stamp = screener, versions, stamp
        log.info(
            "screener ready: %d entries, %d name forms, built in %.1fs",
            len(screener.parties),
            screener.form_count,
            screener.build_seconds,
        )
        return screener

    def use(self, screener: Screener) -> None:
        """Serve a screener built elsewhere over this workspace's current lists."""
        stamp = self._db_stamp()
        versions = frozenset(v.version_id for v in screener.versions)
        with self._lock:
            self._screener, self._versions, self._stamp = screener, versions, stamp

    def screener(self) -> Screener:
        """The current screener; starts a rebuild if the active lists changed since."""
        with self._lock:
            current, versions, stamp = self._screener, self._versions, self._stamp
        if current is None:
            return self.load()
        now = self._db_stamp()
        if now != stamp:
            try:
                changed = self._active_versions() != versions
            except WorkspaceError as exc:  # a writer in another process holds the file
                log.warning("could not check the list versions: %s", exc)
                return current
            if changed:
                self._rebuild_in_background()
            else:
                with self._lock:
                    self._stamp = now
        return current

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._rebuilding:
                return
            self._rebuilding = True

        def run() -> None:
            try:
                self.load()
            except WorkspaceError as exc:  # the writer still holds the database
                log.warning("lists changed but could not be reloaded yet: %s", exc)
            finally:
                with self._lock:
                    self._rebuilding = False

        threading.Thread(target=run, name="econsec-screener-rebuild", daemon=True).start()

"""A stop asked for by Ctrl-C (SIGINT) or SIGTERM, as the command line and the run see it.

The command's signal handler raises :class:`Stopped` where the main thread happens to be; if
that is inside code that swallows exceptions (a finaliser, a weak-reference callback or a
library's bare ``except`` during an import: Python prints "Exception ignored" and carries on),
the run would go on to write a pack after the user asked it to stop. So the handler also notes
the stop in a :class:`StopFlag`, and the run checks the flag at each stage.
"""

from __future__ import annotations

import signal


class Stopped(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM (what schedulers and ``kill`` send) arrived."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopFlag:
    """The first stop signal that arrived (``signum``; None while none has)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def note(self, signum: int) -> None:
        """Keep the first signal; a second one while the run cleans up changes nothing."""
        if self.signum is None:
            self.signum = signum

    def check(self) -> None:
        """Raise :class:`Stopped` if a stop was asked for (and swallowed on the way)."""
        if self.signum is not None:
            raise Stopped(self.signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

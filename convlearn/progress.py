"""The one place where library code may say something: a small progress reporter.

Library functions take ``reporter=None`` and stay silent by default; the
command line passes a `Reporter` that writes to stderr.
"""

import sys
import time

__all__ = ["Reporter", "silent"]


class Reporter:
    """Writes progress lines to a stream (stderr by default) unless disabled."""

    def __init__(self, stream=None, enabled=True):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self._start = time.perf_counter()

    def info(self, message):
        """A line of its own."""
        if self.enabled:
            print(message, file=self.stream, flush=True)

    def status(self, message):
        """A line that the next status or info line overwrites (\\r), for rates and ETAs."""
        if self.enabled:
            print("\r" + message, end="", file=self.stream, flush=True)

    def end_status(self):
        """Finish the current status line."""
        if self.enabled:
            print(file=self.stream, flush=True)


def silent(reporter):
    """``reporter``, or a disabled one when it is None."""
    return Reporter(enabled=False) if reporter is None else reporter

"""Test helper shared by the lessons' interrupt-and-continue tests: a Ctrl-C sent from inside the loop."""
from __future__ import annotations

import os
import signal


class InterruptingBatches:
    """Wraps a batch iterator: while serving batch `at` (counting from 1), sends this process a SIGINT,
    what Kernel > Interrupt sends; the loop's current step then finishes and the loop stops."""

    def __init__(self, batches, at: int) -> None:
        self.batches, self.at, self.served = batches, at, 0

    def __next__(self):
        self.served += 1
        if self.served == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return next(self.batches)

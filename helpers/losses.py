"""Loss functions that later lessons build and then reuse (each taught in its lesson first)."""
from __future__ import annotations

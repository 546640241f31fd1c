"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations

"""Publishing: the paper's figures and the report, from the work folder's tables.

A layer of its own between :mod:`redclump.core` and :mod:`redclump.dashboard` (the app's figure
zip uses :func:`redclump.publish.figures.write_figures`); it imports only ``data``, ``core`` and
matplotlib, and changes no matplotlib state on import (docs/architecture.md).
"""

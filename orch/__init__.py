"""orch: a declarative policy engine for sequencing-data hand-off and lifecycle on ICA and BaseSpace."""

__version__ = "0.1.0"

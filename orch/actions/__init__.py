"""The registered action kinds. Importing this package registers them all (one class each)."""

from orch.actions import handoff, notify, storage  # noqa: F401  (registration)
from orch.actions.base import BaseAction
from orch.actions.handoff import LinkParams, ManifestParams, TagParams
from orch.actions.storage import UnarchiveParams

__all__ = ["BaseAction", "LinkParams", "ManifestParams", "TagParams", "UnarchiveParams"]

"""The registered actions. Importing this package registers them all."""

from orch.actions import kinds  # noqa: F401  (registration)
from orch.actions.base import BaseAction
from orch.actions.kinds import LinkParams, ManifestParams, TagParams, UnarchiveParams

__all__ = ["BaseAction", "LinkParams", "ManifestParams", "TagParams", "UnarchiveParams"]

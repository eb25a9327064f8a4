"""The registered matchers. Importing this package registers them all."""

from orch.matchers import age, analysis, field, logic  # noqa: F401  (registration)
from orch.matchers.base import BaseMatcher, BuildContext

__all__ = ["BaseMatcher", "BuildContext"]

"""Shared vocabulary: resource kinds and platform statuses the engine and the actions name."""

from __future__ import annotations

#: ICA data statuses while a storage change is under way (left alone until it settles)
IN_TRANSIT = frozenset({"ARCHIVING", "UNARCHIVING", "DELETING", "PARTIAL"})
#: ICA data statuses in which an archive / unarchive / delete is already in effect (requested or done)
ICA_IN_EFFECT = {"archive": frozenset({"ARCHIVING", "ARCHIVED"}), "unarchive": frozenset({"UNARCHIVING", "AVAILABLE"}),
                 "delete": frozenset({"DELETING"})}
#: BaseSpace run statuses after which a run may be archived or deleted
TERMINAL_RUN = frozenset({"Complete", "Stopped", "Failed"})
#: the resource kinds that hold data (what archive, unarchive and delete act on)
DATA_KINDS = frozenset({"ica.data", "bssh.dataset", "bssh.run"})
BSSH_DATA_KINDS = frozenset({"bssh.dataset", "bssh.run"})
#: characters that make a protect name or path a glob
GLOB_CHARS = "*?["
#: every resource kind a plan may name
RESOURCE_KINDS: tuple[str, ...] = (
    "ica.project", "ica.analysis", "ica.data", "bssh.project", "bssh.dataset", "bssh.run", "bssh.trash",
)

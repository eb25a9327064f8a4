"""Running orch unattended: ``orch watch`` (cadence, events, stop rules), logs, audit, notifications."""

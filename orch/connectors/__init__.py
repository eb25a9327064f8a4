"""Connectors: the only code that talks to ICA, BaseSpace and S3."""

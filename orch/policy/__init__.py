"""The policy language: loading with positions, variables and templates, schema, lint."""

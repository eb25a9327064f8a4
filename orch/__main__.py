from orch.cli import app

app()

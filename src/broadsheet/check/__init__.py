"""Post-build checks, used by the tests and by ``broadsheet check``."""

"""Store tests against a real redis-server (see conftest.py)."""

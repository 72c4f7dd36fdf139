"""What the tests share: stand-in servers, helpers and data, imported as ``support.<module>``
(pyproject.toml puts tests/ on the import path). Fixtures live in the conftest.py files."""

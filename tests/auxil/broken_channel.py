"""A channel module whose own dependency is missing: the registry must not hide that."""

import not_a_real_dependency_for_tests  # noqa: F401

from tests.exercise.conftest import library, programme  # noqa: F401  # shared fixtures

from cityops.evaluation.tests.conftest import _fresh_cache, _media_in_tmp, history, loop_world  # noqa: F401

"""usable_cores: the one count of cores the threads and the server plan with."""


def test_usable_cores_is_the_affinity_and_asked_once(monkeypatch):
    import os

    from tinyann.kernels import cores

    cores.usable_cores.cache_clear()
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 2, 5}, raising=False)
    try:
        assert cores.usable_cores() == 3
        monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0}, raising=False)
        assert cores.usable_cores() == 3  # cached: the threads' plans stay consistent
    finally:
        cores.usable_cores.cache_clear()

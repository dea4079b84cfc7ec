def pytest_generate_tests(metafunc):
    if "failure" in metafunc.fixturenames:
        names = sorted(getattr(metafunc.cls, "FAILURES", {}))
        metafunc.parametrize("failure", names, ids=names)

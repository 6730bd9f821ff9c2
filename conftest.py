pytest_plugins = ["tbproject.testing.fixtures"]

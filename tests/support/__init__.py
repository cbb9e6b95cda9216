"""Helpers shared by the test suites: hand-made landing fixtures and fixture warehouses."""

"""Workbench's Jupyter server extension: REST API, auth and the prebuilt labextension."""

from workbench_server.app import WorkbenchApp

__all__ = ["WorkbenchApp"]


def _jupyter_server_extension_points():
    return [{"module": "workbench_server", "app": WorkbenchApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "workbench"}]

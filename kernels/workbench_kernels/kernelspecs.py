"""Kernelspecs that start kernels in containers: ``workbench-python`` and ``workbench-torch``.

A kernelspec is what a user picks in JupyterLab's launcher; its
``metadata.kernel_provisioner`` names the provisioner and the image with its default
limits. An admin vets images by writing (or not writing) their specs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from workbench_kernels import images

PROVISIONER_NAME = "workbench-docker-provisioner"


@dataclass(frozen=True)
class ImageSpec:
    """One kernel choice: its kernelspec name, what the launcher shows, the image and its limits."""

    name: str
    display_name: str
    image: str
    mem_limit: str | None = "2g"
    cpus: float = 1.0
    gpus: int = 0
    share_gpus: bool = False


def default_specs() -> list[ImageSpec]:
    """The two images ``workbench images build`` makes (the torch one asks for a GPU where there is one)."""
    return [
        ImageSpec("workbench-python", "Python 3 (container)", images.default_image(False)),
        ImageSpec("workbench-torch", "Python 3 + PyTorch (container)", images.default_image(True),
                  mem_limit="8g", cpus=2.0, gpus=1),
    ]


def kernelspec(spec: ImageSpec) -> dict:
    """The kernel.json of ``spec``."""
    return {
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": spec.display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {
            "debugger": True,
            # jupyter_client >= 8.10 encrypts the kernel's channels (the image's ipykernel can).
            "supported_encryption": ["curve"],
            "kernel_provisioner": {
                "provisioner_name": PROVISIONER_NAME,
                "config": {
                    "image": spec.image,
                    "mem_limit": spec.mem_limit,
                    "cpus": spec.cpus,
                    "gpus": spec.gpus,
                    "share_gpus": spec.share_gpus,
                },
            },
        },
    }


def write_kernelspecs(directory: str | os.PathLike, specs: list[ImageSpec] | None = None) -> list[Path]:
    """Write ``<directory>/<name>/kernel.json`` for each spec (default :func:`default_specs`).

    ``directory`` is a ``kernels`` folder Jupyter searches (``<prefix>/share/jupyter/kernels``,
    or one named in ``KernelSpecManager``'s path). Returns the written folders.

    Example:
        >>> write_kernelspecs(Path(sys.prefix) / "share/jupyter/kernels")
        [PosixPath('.../workbench-python'), PosixPath('.../workbench-torch')]
    """
    written = []
    for spec in default_specs() if specs is None else specs:
        folder = Path(directory) / spec.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps(kernelspec(spec), indent=2) + "\n")
        written.append(folder)
    return written

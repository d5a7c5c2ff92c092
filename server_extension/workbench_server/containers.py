"""Container kernels for a multi-user server: the start-up checks and the kernel menu.

In multi-user mode every kernel runs in a container. At start-up the server
checks that the engine answers (a clear error, not a hang, when it does not),
removes containers a previous run of this server left behind, writes the
kernelspecs of the images the admin allows into the server's own kernels folder
and makes that folder the only one Jupyter offers: no local ``python3`` kernel.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, fields
from pathlib import Path

from workbench_kernels.engine import check_engine, reap_orphans, shared_runtime
from workbench_kernels.errors import EngineUnavailable
from workbench_kernels.kernelspecs import ImageSpec, default_specs, write_kernelspecs

IMAGE_SETTINGS = tuple(f.name for f in fields(ImageSpec))


class ContainerSetupError(RuntimeError):
    """Multi-user mode cannot start: the message says what to fix."""


@dataclass(frozen=True)
class ContainerKernels:
    """What the server set up: where the engine is, the kernel menu, and what it cleaned up."""

    engine: str
    server_id: str
    kernels_dir: Path
    specs: tuple[ImageSpec, ...]
    default: str
    reaped: tuple[str, ...]
    missing_images: tuple[str, ...]


def image_specs(configured: list[dict]) -> list[ImageSpec]:
    """The admin's ``WorkbenchApp.kernel_images`` as ImageSpecs (the built-in two when empty).

    Raises:
        ContainerSetupError: an entry with unknown keys, no name or no image.
    """
    if not configured:
        return default_specs()
    specs = []
    for i, entry in enumerate(configured):
        unknown = sorted(set(entry) - set(IMAGE_SETTINGS))
        if unknown or not entry.get("name") or not entry.get("image"):
            raise ContainerSetupError(
                f"WorkbenchApp.kernel_images[{i}] needs 'name' and 'image' and may set {list(IMAGE_SETTINGS)}"
                + (f"; unknown: {unknown}" if unknown else "") + "."
            )
        specs.append(ImageSpec(**{"display_name": entry["name"], **entry}))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ContainerSetupError(f"WorkbenchApp.kernel_images names must be unique: {names}.")
    return specs


def default_server_id(root_dir: str) -> str:
    """A label value naming this server: the same across its restarts, different for another
    server (another host or root folder) sharing the engine."""
    key = f"{socket.gethostname()}:{os.path.realpath(root_dir)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def set_up(*, home: Path, root_dir: str, configured: list[dict], default: str, server_id: str) -> ContainerKernels:
    """Check the engine, reap this server's orphans, write the allowed kernelspecs. Blocking.

    Raises:
        ContainerSetupError: no engine, or a kernel menu that does not add up.
    """
    specs = image_specs(configured)
    names = [s.name for s in specs]
    default = default or names[0]
    if default not in names:
        raise ContainerSetupError(f"WorkbenchApp.default_kernel is {default!r}, which is not one of the "
                                  f"kernel images users may pick: {names}.")
    try:
        engine = check_engine()
    except EngineUnavailable as e:
        raise ContainerSetupError(f"Multi-user mode runs every kernel in a container, but {e}") from None
    # Kernels never outlive their server process: whatever is labelled with our id is left over.
    reaped = reap_orphans(server_id=server_id)
    runtime = shared_runtime()
    missing = tuple(sorted({s.image for s in specs if not runtime.has_image(s.image)}))
    kernels_dir = home / "kernels"
    for old in kernels_dir.glob("*/kernel.json") if kernels_dir.is_dir() else ():
        if old.parent.name not in names:  # an image the admin no longer allows
            old.unlink()
            if not any(old.parent.iterdir()):
                old.parent.rmdir()
    write_kernelspecs(kernels_dir, specs)
    return ContainerKernels(engine=engine, server_id=server_id, kernels_dir=kernels_dir, specs=tuple(specs),
                            default=default, reaped=tuple(reaped), missing_images=missing)

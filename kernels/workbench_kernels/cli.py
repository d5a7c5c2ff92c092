"""``python -m workbench_kernels``: kernel images, kernelspecs and the container engine.

``workbench images build [--gpu]`` runs ``python -m workbench_kernels images build [--gpu]``
(the ``workbench`` package never imports this one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _images_build(args) -> int:
    from workbench_kernels.images import build_image

    image = build_image(gpu=args.gpu, tag=args.tag, rebuild=args.rebuild, progress=lambda line: print(line, flush=True))
    print(image.tag)
    return 0


def _images_list(args) -> int:
    from workbench_kernels.images import available_images

    for image in available_images():
        print(f"{image['tag']:<40} {image['kind']:<8} {image['size_bytes'] / 1e6:>6.0f} MB  {image['created'][:19]}")
    return 0


def _kernelspecs_install(args) -> int:
    from workbench_kernels.kernelspecs import write_kernelspecs

    folder = Path(args.dir) if args.dir else Path(args.prefix or sys.prefix) / "share/jupyter/kernels"
    for written in write_kernelspecs(folder):
        print(written)
    return 0


def _engine_check(args) -> int:
    from workbench_kernels.engine import check_engine

    print(f"Docker engine at {check_engine()} answers")
    return 0


def _reap(args) -> int:
    from workbench_kernels.engine import reap_orphans

    for name in reap_orphans(server_id=args.server_id or None):
        print(f"removed {name}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m workbench_kernels", description=__doc__.splitlines()[0])
    groups = top.add_subparsers(dest="group", required=True)

    images = groups.add_parser("images", help="kernel images").add_subparsers(dest="command", required=True)
    build = images.add_parser("build", help="build the kernel image offline (cached by its inputs)")
    build.add_argument("--gpu", action="store_true", help="the torch variant (workbench-kernel-torch)")
    build.add_argument("--tag", help="image tag (default: workbench-kernel[-torch]:<version>)")
    build.add_argument("--rebuild", action="store_true", help="ignore the cache")
    build.set_defaults(run=_images_build)
    images.add_parser("list", help="kernel images on the engine").set_defaults(run=_images_list)

    specs = groups.add_parser("kernelspecs", help="kernelspecs").add_subparsers(dest="command", required=True)
    install = specs.add_parser("install", help="write workbench-python and workbench-torch")
    install.add_argument("--dir", help="the kernels folder to write into")
    install.add_argument("--prefix", help="write into <prefix>/share/jupyter/kernels (default: this Python's)")
    install.set_defaults(run=_kernelspecs_install)

    engine = groups.add_parser("engine", help="the container engine").add_subparsers(dest="command", required=True)
    engine.add_parser("check", help="fail fast when no engine answers").set_defaults(run=_engine_check)
    reap = engine.add_parser("reap", help="remove kernel containers no running server knows")
    reap.add_argument("--server-id", help="only containers of this server (the workbench.server label)")
    reap.set_defaults(run=_reap)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except RuntimeError as e:  # ImageBuildError, EngineUnavailable, ImageMissing: messages say the fix
        print(f"error: {e}", file=sys.stderr)
        return 1

"""Build the kernel images offline: ``workbench images build [--gpu]``.

Layers, each cached by a hash of its inputs (kept in an image label):

1. base (``workbench-kernel-base:<hash>``): ``debootstrap --variant=minbase`` of this
   host's Debian release, from the mirror in this machine's apt sources, plus the
   packages in ``kernels/images/debian-packages.txt`` and ``setup-rootfs.sh`` (user
   ``jovyan``, uid 1000; an empty venv in /opt/workbench), ``docker import``-ed.
2. dependencies (``workbench-kernel-deps:<hash>``): a wheelhouse made on the host with
   ``pip download`` (``requirements.txt`` + the SDK's own dependencies), installed in a
   container of the base image with ``pip install --no-index`` and no network at all,
   then ``docker commit``-ed. With ``gpu=True`` a torch layer
   (``workbench-kernel-torch-deps:<hash>``, ``requirements-torch.txt``) goes on top.
3. the SDK (``workbench-kernel:<version>`` or ``workbench-kernel-torch:<version>``):
   this checkout's wheel, installed without dependencies, so that a code change
   rebuilds one small layer.

Nothing is pulled from a container registry and the image never reaches a package
index; only the host's pip and apt sources are used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from workbench_kernels._steps import Heartbeat, Progress, run, step
from workbench_kernels.apt import host_release
from workbench_kernels.errors import ImageBuildError
from workbench_kernels.rootfs import architecture, bootstrap

BASE_REPOSITORY = "workbench-kernel-base"
DEPS_REPOSITORY = "workbench-kernel-deps"
TORCH_DEPS_REPOSITORY = "workbench-kernel-torch-deps"
PYTHON_REPOSITORY = "workbench-kernel"
TORCH_REPOSITORY = "workbench-kernel-torch"
LABEL_INPUTS = "workbench.image.inputs"
LABEL_KIND = "workbench.image.kind"
LABEL_PYTHON = "workbench.image.python"

KERNEL_USER = "1000:100"  # jovyan:users, made by setup-rootfs.sh
KERNEL_HOME = "/home/jovyan"
KERNEL_WORKDIR = "/home/jovyan/work"
VENV = "/opt/workbench"
CONNECTION_FILE = "/connection/kernel.json"
_PATH = f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KERNEL_COMMAND = ["python", "-m", "ipykernel_launcher", "-f", CONNECTION_FILE]

# Bump when the way a layer is made changes in a way its input files don't show.
_RECIPE = "5"

@dataclass(frozen=True)
class BuiltImage:
    """A kernel image on the engine: ``tag``, its id, and whether this call made it or found it."""

    tag: str
    id: str
    inputs: str
    cached: bool
    seconds: float
    size_bytes: int


def image_version() -> str:
    """The tag kernel images get: the installed Workbench version."""
    try:
        return metadata.version("workbench-ml")
    except metadata.PackageNotFoundError:
        return "dev"


def default_image(gpu: bool = False) -> str:
    """``workbench-kernel:<version>``, or ``workbench-kernel-torch:<version>`` with ``gpu``."""
    return f"{TORCH_REPOSITORY if gpu else PYTHON_REPOSITORY}:{image_version()}"


def build_image(
    gpu: bool = False,
    *,
    tag: str | None = None,
    progress: Progress | None = print,
    rebuild: bool = False,
    source_dir: str | os.PathLike | None = None,
) -> BuiltImage:
    """Build (or find, when nothing changed) a kernel image; needs a Docker engine.

    Args:
        gpu: build the torch variant (``workbench-kernel-torch``) instead: the plain image's
            layers plus torch. It holds the torch build the host's pip index offers: CPU on
            this project's CI machines, CUDA from PyPI elsewhere.
        tag: the image's tag; default :func:`default_image`.
        progress: called with one line per step (and its time); None for silence.
        rebuild: ignore the cache and make every layer again.
        source_dir: the Workbench checkout to take ``kernels/images/`` and the SDK wheel
            from; default: the checkout this package runs from.

    Raises:
        ImageBuildError: a step failed (the message names the step and the fix).
        EngineUnavailable: no Docker engine answers.

    Example:
        >>> from workbench_kernels.images import build_image
        >>> build_image(progress=print).tag
        'workbench-kernel:0.1.0'
    """
    say = progress or (lambda line: None)
    started = time.monotonic()
    source = _source_dir(source_dir)
    with _build_lock(say), _docker() as client, tempfile.TemporaryDirectory(prefix="workbench-image-") as tmp:
        sdk_wheel = step(say, "SDK wheel from the checkout", lambda: _build_sdk_wheel(source, Path(tmp)))
        base, made = _base_image(client, source, say, rebuild=rebuild)
        built = [made]
        # The SDK's dependencies in one layer, the SDK alone on top: a code change rebuilds seconds, not minutes.
        deps, _, made = _python_layer(
            client, say, from_image=base, repository=DEPS_REPOSITORY, kind="deps", rebuild=rebuild, tmp=Path(tmp),
            requirements=_requirements(source / "kernels/images/requirements.txt") + _wheel_requirements(sdk_wheel),
            smoke="import ipykernel, numpy, pandas, sklearn",
        )
        built.append(made)
        if gpu:  # torch in a layer of its own below the SDK, so that a code change stays a 3 s rebuild here too
            deps, _, made = _python_layer(
                client, say, from_image=deps, repository=TORCH_DEPS_REPOSITORY, kind="torch-deps",
                rebuild=rebuild, tmp=Path(tmp),
                requirements=_requirements(source / "kernels/images/requirements-torch.txt"),
                smoke="import torch",
            )
            built.append(made)
        name, version = _wheel_name_version(sdk_wheel)
        final_tag = tag or default_image(gpu)
        _, inputs, made = _python_layer(
            client, say, from_image=deps, tag=final_tag, kind="torch" if gpu else "python", rebuild=rebuild,
            tmp=Path(tmp), requirements=[f"{name}=={version}"], wheels=[sdk_wheel],
            fingerprint=_wheel_fingerprint(sdk_wheel),
            smoke="import ipykernel, numpy, pandas, sklearn, workbench" + (", torch" if gpu else ""),
        )
        built.append(made)
        return _finish(client, final_tag, inputs, started, say, cached=not any(built))


def available_images() -> list[dict]:
    """Kernel images on the engine: ``[{"tag", "kind", "size_bytes", "created"}]``."""
    found = []
    with _docker() as client:
        images = client.images.list(filters={"label": LABEL_KIND})
    for image in images:
        if image.labels.get(LABEL_KIND) not in ("python", "torch"):
            continue  # a layer, not a kernel image
        for tag in image.tags:
            found.append({
                "tag": tag,
                "kind": image.labels.get(LABEL_KIND, ""),
                "size_bytes": image.attrs.get("Size", 0),
                "created": image.attrs.get("Created", ""),
            })
    return sorted(found, key=lambda i: i["tag"])


# -- the base: debootstrap (workbench_kernels.rootfs) ----------------------------------------------


def _base_image(client, source: Path, say: Progress, *, rebuild: bool) -> tuple[str, bool]:
    images = source / "kernels/images"
    packages = _requirements(images / "debian-packages.txt")
    setup = (images / "setup-rootfs.sh").read_text()
    suite = host_release()
    inputs = _hash({"recipe": _RECIPE, "suite": suite, "arch": architecture(), "packages": packages, "setup": setup})
    tag = f"{BASE_REPOSITORY}:{inputs[:16]}"
    if not rebuild and _image_inputs(client, tag) == inputs:
        say(f"base image {tag}: cached")
        return tag, False
    changes = [f"ENV PATH={_PATH}", "ENV LANG=C.UTF-8", f"LABEL {LABEL_INPUTS}={inputs}", 'CMD ["/bin/bash"]']
    bootstrap(client, suite=suite, packages=packages, setup_script=setup, tag=tag, changes=changes,
              python_label=LABEL_PYTHON, say=say)
    _untag_others(client, BASE_REPOSITORY, keep=tag)
    return tag, True


# -- the Python layers: a wheelhouse, pip install --no-index, docker commit -------------------------


def _python_layer(client, say: Progress, *, from_image: str, kind: str, requirements: list[str], rebuild: bool,
                  tmp: Path, smoke: str, tag: str | None = None, repository: str | None = None,
                  wheels: tuple[Path, ...] | list[Path] = (), fingerprint: str = "") -> tuple[str, str, bool]:
    """One ``pip install --no-index`` layer on ``from_image``: returns its tag, inputs hash, and whether it was made.

    With ``wheels`` (the SDK) only those are installed, without dependencies (the layer
    below has them); otherwise ``requirements`` are resolved into a wheelhouse first.
    ``repository`` instead of ``tag`` names the layer by its inputs hash.
    """
    parent = client.images.get(from_image)
    inputs = _hash({"recipe": _RECIPE, "from": parent.id, "requirements": requirements, "extra": fingerprint})
    tag = tag or f"{repository}:{inputs[:16]}"
    if not rebuild and _image_inputs(client, tag) == inputs:
        say(f"image {tag}: cached")
        return tag, inputs, False
    wheelhouse = tmp / f"wheelhouse-{kind}"
    wheelhouse.mkdir()
    (wheelhouse / "requirements.txt").write_text("\n".join(requirements) + "\n")
    install = [f"{VENV}/bin/pip", "install", "--no-index", "--find-links=/wheelhouse", "--no-cache-dir",
               "--disable-pip-version-check", "--progress-bar=off", "-r", "/wheelhouse/requirements.txt"]
    if wheels:
        for wheel in wheels:
            shutil.copy2(wheel, wheelhouse / wheel.name)
        install.append("--no-deps")
    else:
        python = parent.labels.get(LABEL_PYTHON) or _image_python_version(client, from_image)
        step(say, f"wheelhouse for {kind} (Python {python}): pip download {' '.join(requirements)}",
              lambda: _wheelhouse(wheelhouse, requirements, python, say))
    step(say, f"{tag}: pip install --no-index in a container of {from_image} (no network)",
          lambda: _install_and_commit(client, from_image, wheelhouse, install, tag, inputs, kind, say))
    shutil.rmtree(wheelhouse, ignore_errors=True)
    step(say, f"check: {smoke}", lambda: _smoke(client, tag, smoke))
    if repository:
        _untag_others(client, repository, keep=tag)
    return tag, inputs, True


def _untag_others(client, repository: str, keep: str) -> None:
    # Older layers of this kind: untagged (deleted when no image is built on them).
    for image in client.images.list(name=repository):
        for other in image.tags:
            if other != keep:
                _remove_quietly(client, other)


def _image_python_version(client, image: str) -> str:
    out = client.containers.run(
        image, ["python3", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        network_mode="none", remove=True,
    )
    return out.decode().strip()


def _wheelhouse(wheelhouse: Path, requirements: list[str], python: str, say: Progress) -> None:
    # Resolved for the image's Python (its patch release matters: some packages want >=3.11.5),
    # on this host's platform (same Debian release, same glibc), wheels only: the image has no
    # compiler. Everything comes from the host's index and its caches.
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar=off",
           "--only-binary=:all:", f"--python-version={python}", "--dest", str(wheelhouse),
           "--find-links", str(wheelhouse), *requirements]
    run(cmd, say, "pip download", keep=lambda line: line.startswith(("Collecting", "ERROR")), heartbeat_only=True)
    wheels = list(wheelhouse.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels)
    say(f"    {len(wheels)} wheels, {size / 1e6:.0f} MB")


def _install_and_commit(client, from_image: str, wheelhouse: Path, install: list[str], tag: str,
                        inputs: str, kind: str, say: Progress) -> None:
    from docker.types import Mount

    # A mount, not `volumes=`: docker-py also declares those as image volumes, which the commit
    # below would keep, and every kernel container would then carry an empty /wheelhouse volume.
    container = client.containers.run(
        from_image, install, user="root", network_mode="none", detach=True,
        mounts=[Mount("/wheelhouse", str(wheelhouse), type="bind", read_only=True)],
    )
    try:
        beat = Heartbeat(say, "pip install")
        with beat:
            for chunk in container.logs(stream=True, follow=True):
                for line in chunk.decode(errors="replace").splitlines():
                    if line.startswith(("Installing collected", "Successfully installed")):
                        beat.saw(line[:120])
        code = container.wait()["StatusCode"]
        if code != 0:
            raise ImageBuildError(
                f"pip install --no-index failed in the image (exit {code}); its output ends with:\n"
                + container.logs(tail=30).decode(errors="replace")
            )
        replaced = _image_id(client, tag)
        repository, _, version = tag.rpartition(":")
        container.commit(
            repository=repository, tag=version,
            changes=[
                f"USER {KERNEL_USER}",
                f"WORKDIR {KERNEL_WORKDIR}",
                f"ENV PATH={_PATH}",
                "ENV LANG=C.UTF-8",
                "ENV PYTHONUNBUFFERED=1",
                'ENTRYPOINT ["/usr/bin/tini", "-g", "--"]',
                "CMD " + json.dumps(KERNEL_COMMAND),
                f"LABEL {LABEL_INPUTS}={inputs} {LABEL_KIND}={kind}",
            ],
        )
    finally:
        container.remove(force=True)
    if replaced:
        _remove_quietly(client, replaced)


def _image_id(client, tag: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(tag).id
    except ImageNotFound:
        return None


def _remove_quietly(client, image_id: str) -> None:
    # An image (or tag) a rebuild replaced, unless a container still uses it.
    from docker.errors import APIError

    try:
        client.images.remove(image_id, noprune=False)
    except APIError:
        pass


def _smoke(client, tag: str, code: str) -> None:
    from docker.errors import ContainerError

    try:
        client.containers.run(tag, ["python", "-c", code], network_mode="none", remove=True)
    except ContainerError as e:
        raise ImageBuildError(f"The new image {tag} cannot `{code}`: {e.stderr.decode(errors='replace')[-2000:]}")


def _build_sdk_wheel(source: Path, out: Path) -> Path:
    dist = out / "sdk"
    dist.mkdir()
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w", str(dist)]
    try:  # the venv's build backend when it has one (fast); else pip's isolated build env
        import hatch_jupyter_builder  # noqa: F401
        import hatchling  # noqa: F401

        cmd.append("--no-build-isolation")
    except ImportError:
        pass
    run(cmd + [str(source)], None, "pip wheel (Workbench SDK)")
    wheels = list(dist.glob("workbench_ml-*.whl"))
    if len(wheels) != 1:
        raise ImageBuildError(f"Building the Workbench wheel from {source} gave {[w.name for w in wheels]}")
    return wheels[0]


def _wheel_fingerprint(wheel: Path) -> str:
    # RECORD lists every file's hash: the same code gives the same fingerprint, whatever the zip dates.
    with zipfile.ZipFile(wheel) as zf:
        record = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        return hashlib.sha256(zf.read(record)).hexdigest()


def _wheel_requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist, without those of its extras (the kernel needs the plain SDK)."""
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    found = []
    for line in meta.splitlines():
        if line.startswith("Requires-Dist:"):
            requirement = line.split(":", 1)[1].strip()
            if not re.search(r"\bextra\s*==", requirement):
                found.append(requirement)
        elif not line.strip():
            break  # the body (README) starts
    return found


def _wheel_name_version(wheel: Path) -> tuple[str, str]:
    name, version = wheel.name.split("-")[:2]
    return name.replace("_", "-"), version


# -- helpers ----------------------------------------------------------------------------------------


@contextmanager
def _docker():
    from workbench_kernels.docker_runtime import DockerRuntime

    runtime = DockerRuntime(api_timeout=1800)  # committing a big layer takes a while
    try:
        yield runtime.client()
    finally:
        runtime.close()


@contextmanager
def _build_lock(say: Progress) -> Iterator[None]:
    # Two builds at once (two test sessions, a CLI beside a server) would each make every layer
    # and untag the other's; the second waits here, then finds the first's layers cached.
    import fcntl

    path = Path(tempfile.gettempdir()) / "workbench-kernel-image.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # another user's lock file: build unserialized rather than not at all
        yield
        return
    with os.fdopen(fd, "r+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another kernel image build to finish ({path})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _source_dir(source_dir) -> Path:
    here = Path(source_dir) if source_dir else Path(__file__).resolve().parents[2]
    if not (here / "kernels/images/requirements.txt").is_file() or not (here / "pyproject.toml").is_file():
        raise ImageBuildError(
            "Kernel images are built from a Workbench source checkout (kernels/images/ and the SDK wheel): "
            f"{here} is not one; run from a checkout or pass its path."
        )
    return here


def _requirements(file: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in file.read_text().splitlines())
    return [line for line in lines if line]


def _image_inputs(client, tag: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(tag).labels.get(LABEL_INPUTS)
    except ImageNotFound:
        return None


def _finish(client, tag: str, inputs: str, started: float, say: Progress, *, cached: bool) -> BuiltImage:
    if not cached:  # images earlier builds left untagged (a container was still using them then)
        client.images.prune(filters={"dangling": True, "label": LABEL_INPUTS})
    image = client.images.get(tag)
    seconds = time.monotonic() - started
    size = image.attrs.get("Size", 0)
    say(f"{tag}: {size / 1e6:.0f} MB, {'cached, ' if cached else ''}{seconds:.1f}s in all")
    return BuiltImage(tag=tag, id=image.id, inputs=inputs, cached=cached, seconds=seconds, size_bytes=size)


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()

"""The kernel image build: its inputs (apt sources, kernelspecs) and, with an engine, the image itself."""

from __future__ import annotations

import json

import pytest
from workbench_kernels import apt, images
from workbench_kernels.errors import ImageBuildError
from workbench_kernels.kernelspecs import PROVISIONER_NAME, default_specs, write_kernelspecs
from workbench_kernels.provisioner import _to_container
from workbench_kernels.runtime import Mount

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Enabled: no
"""


def test_mirror_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d/other.sources.disabled").write_text(DEB822.replace("mirror.example", "nope"))
    mirror = apt.debian_mirror("bookworm", tmp_path)
    assert mirror.uri == "http://mirror.example/debian"
    assert mirror.signed_by == "/usr/share/keyrings/debian-archive-keyring.gpg"
    with pytest.raises(ImageBuildError, match="No apt source for 'bookworm-security main'"):
        apt.debian_mirror("bookworm-security", tmp_path)  # that entry is disabled


def test_mirror_from_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg] http://one.example/debian bookworm main non-free\n"
    )
    (tmp_path / "sources.list.d/extra.list").write_text("deb http://two.example/debian trixie main\n")
    assert apt.debian_mirror("bookworm", tmp_path) == apt.AptSource(
        "http://one.example/debian", ("bookworm",), ("main", "non-free"), "/etc/apt/keyrings/x.gpg"
    )
    assert apt.debian_mirror("trixie", tmp_path).uri == "http://two.example/debian"


def test_this_machine_has_a_mirror_for_its_own_release():
    suite = apt.host_release()
    assert apt.debian_mirror(suite).uri


def test_host_release(tmp_path):
    (tmp_path / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n')
    assert apt.host_release(tmp_path / "os-release") == "bookworm"
    (tmp_path / "os-release").write_text("NAME=Something\n")
    with pytest.raises(ImageBuildError, match="VERSION_CODENAME"):
        apt.host_release(tmp_path / "os-release")


def test_kernelspecs_name_the_provisioner_and_the_image(tmp_path):
    written = write_kernelspecs(tmp_path)
    assert [w.name for w in written] == ["workbench-python", "workbench-torch"]
    spec = json.loads((tmp_path / "workbench-python/kernel.json").read_text())
    provisioner = spec["metadata"]["kernel_provisioner"]
    assert provisioner["provisioner_name"] == PROVISIONER_NAME
    assert provisioner["config"] == {"image": images.default_image(False), "mem_limit": "2g", "cpus": 1.0,
                                     "gpus": 0, "share_gpus": False}
    assert spec["argv"][-1] == "{connection_file}" and spec["metadata"]["supported_encryption"] == ["curve"]
    torch = json.loads((tmp_path / "workbench-torch/kernel.json").read_text())
    assert torch["metadata"]["kernel_provisioner"]["config"]["image"].startswith("workbench-kernel-torch:")
    assert [s.gpus for s in default_specs()] == [0, 1]


def test_host_paths_map_into_the_container(tmp_path):
    mounts = [Mount(str(tmp_path / "users/alice"), "/home/jovyan/work/users/alice"),
              Mount(str(tmp_path / "teams/growth"), "/home/jovyan/work/teams/growth")]
    for m in mounts:
        (tmp_path / m.target.split("work/")[1]).mkdir(parents=True)
    assert _to_container(str(tmp_path / "users/alice"), mounts) == "/home/jovyan/work/users/alice"
    assert _to_container(str(tmp_path / "teams/growth/a.ipynb"), mounts) == "/home/jovyan/work/teams/growth/a.ipynb"
    assert _to_container(str(tmp_path / "users/alicex"), mounts) is None  # a prefix is not a parent
    assert _to_container(str(tmp_path), mounts) is None


@pytest.mark.docker
def test_the_image_runs_as_jovyan_under_tini_and_is_cached(kernel_image, docker_runtime):
    image = docker_runtime.client().images.get(kernel_image.tag)
    config = image.attrs["Config"]
    assert config["User"] == "1000:100" and config["WorkingDir"] == "/home/jovyan/work"
    assert config["Entrypoint"] == ["/usr/bin/tini", "-g", "--"]
    assert not config.get("Volumes")  # else every kernel container would leave a volume behind
    assert image.labels[images.LABEL_KIND] == "python" and image.labels[images.LABEL_PYTHON].startswith("3.")
    again = images.build_image(progress=None)  # nothing changed since the session's build
    assert again.cached and again.id == kernel_image.id
    out = docker_runtime.client().containers.run(
        kernel_image.tag, ["python", "-c", "import workbench, sys; print(sys.prefix, workbench.__version__)"],
        network_mode="none", remove=True,
    )
    assert out.decode().split() == ["/opt/workbench", images.image_version()]


def test_the_kernel_never_runs_as_root_and_odd_kernel_ids_stay_tame():
    from traitlets import TraitError
    from workbench_kernels.provisioner import DockerKernelProvisioner, _safe

    for bad in ("0", "0:0", "root", "1000:staff"):
        with pytest.raises(TraitError, match="non-root numeric uid"):
            DockerKernelProvisioner(kernel_user=bad)
    assert DockerKernelProvisioner(kernel_user="1234:100").kernel_user == "1234:100"
    assert _safe("../../etc/passwd") == "_.._etc_passwd" and _safe("2c6c-4e1f") == "2c6c-4e1f"

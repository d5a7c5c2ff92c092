"""Workbench's container kernels: each kernel in its own container, images built offline.

- :mod:`workbench_kernels.provisioner`: ``DockerKernelProvisioner`` (jupyter_client entry
  point ``workbench-docker-provisioner``);
- :mod:`workbench_kernels.engine`: ``check_engine``, ``reap_orphans``, ``prepare_workspace``
  (the server's start-up and workspaces);
- :mod:`workbench_kernels.kernelspecs`: ``write_kernelspecs`` (``workbench-python``,
  ``workbench-torch``);
- :mod:`workbench_kernels.images`: ``build_image`` (``workbench images build [--gpu]``), with
  :mod:`~workbench_kernels.rootfs` (debootstrap) and :mod:`~workbench_kernels.apt` (the mirror);
- :mod:`workbench_kernels.errors`: ``EngineUnavailable``, ``ImageMissing``, ``ImageBuildError``;
- ``python -m workbench_kernels``: the command line (:mod:`workbench_kernels.cli`);
- :mod:`workbench_kernels.runtime`: the ``ContainerRuntime`` interface the provisioner
  runs containers through (Docker in :mod:`workbench_kernels.docker_runtime`;
  Kubernetes: docs/kubernetes.md).

Stands alone: imports neither ``workbench`` nor ``workbench_server``.
"""

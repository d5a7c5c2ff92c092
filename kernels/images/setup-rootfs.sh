#!/bin/sh
# Runs inside the freshly bootstrapped rootfs (chroot) before it becomes the base image.
set -eu
# The kernel's user: uid 1000 in group users (100), as in Jupyter's docker-stacks images.
useradd --uid 1000 --gid 100 --create-home --home-dir /home/jovyan --shell /bin/bash jovyan
mkdir -p /home/jovyan/work
chown 1000:100 /home/jovyan/work
# The kernel's Python environment; root-owned, filled by the Python layer.
python3 -m venv /opt/workbench
# Nothing here is needed at run time (and the image has no network to use apt anyway).
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
  /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*

"""Kernel start-up benchmark: a container kernel against a local one, side by side.

Timed: from ``KernelManager.start_kernel()`` until the reply to the first
``execute_request`` arrives, as a user waits after opening a notebook. Two first cells:

* ``empty``: ``pass``: start-up alone;
* ``imports``: ``import workbench, numpy, pandas, sklearn``: the first cell of a typical notebook.

Backends, started through jupyter_client's own KernelManager:

* ``local``: ipykernel in a subprocess of this Python (jupyter_client's LocalProvisioner),
  what single-user Workbench runs;
* ``container``: the same through ``workbench-docker-provisioner``: a container of
  ``workbench-kernel:<version>`` with a 2g / 1 CPU limit.

Both with CurveZMQ-encrypted channels (the container kernel always has them).

Median of ``--n`` (default 10) starts each, alternating backends so that drift on the
machine hits both alike. Needs a Docker engine (``sudo tools/dockerd.sh start``); the
image is built first when missing (untimed).

Run: ``python benchmarks/kernels.py``. Goal (issue 4): container within 1.5x of local.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_time, median, table  # the sibling module, found through the line above

CELLS = {"empty": "pass", "imports": "import workbench, numpy, pandas, sklearn"}
GOAL = 1.5


def start_to_first_reply(kernel_name: str, kernel_dirs: list[str], code: str, env: dict[str, str]) -> float:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs),
                       transport_encryption="auto")
    started = time.perf_counter()
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
        seconds = time.perf_counter() - started
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{kernel_name}: {code!r} failed: {reply['content']}")
        return seconds
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="starts per backend and cell (default 10)")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()

    from workbench_kernels.images import build_image
    from workbench_kernels.kernelspecs import write_kernelspecs

    image = build_image(progress=lambda line: print(f"  [image] {line}", flush=True))
    with tempfile.TemporaryDirectory(prefix="workbench-bench-kernels-") as tmp:
        specs = Path(tmp) / "kernels"
        write_kernelspecs(specs)
        local = specs / "local-python"
        local.mkdir()
        (local / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (local)", "language": "python",
            "metadata": {"supported_encryption": ["curve"]},  # encrypted like the container's: a fair race
        }))
        # A kernel never sees this process's Workbench settings; the container kernel none at all.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env["WORKBENCH_HOME"] = str(Path(tmp) / "home")
        backends = {"local": "local-python", "container": "workbench-python"}
        samples: dict[str, dict[str, list[float]]] = {cell: {b: [] for b in backends} for cell in CELLS}
        for cell, code in CELLS.items():
            for backend, name in backends.items():  # one untimed start each: page cache, image layers
                start_to_first_reply(name, [str(specs)], code, env)
            for i in range(args.n):
                for backend, name in backends.items():
                    samples[cell][backend].append(start_to_first_reply(name, [str(specs)], code, env))
                print(f"  {cell} {i + 1}/{args.n}: " + ", ".join(
                    f"{b} {fmt_time(samples[cell][b][-1])}" for b in backends), flush=True)

    rows = []
    for cell, by_backend in samples.items():
        local_s, container_s = median(by_backend["local"]), median(by_backend["container"])
        ratio = container_s / local_s
        rows.append([f"`{CELLS[cell]}`", fmt_time(local_s), fmt_time(container_s), f"{ratio:.2f}x",
                     "yes" if ratio <= GOAL else "no"])
    print()
    print(f"Kernel start to first execute_reply, median of {args.n} ({image.tag}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')})")
    print(table(["first cell", "local", "container", "container / local", f"within {GOAL}x"], rows))
    if args.json:
        args.json.write_text(json.dumps({"image": image.tag, "n": args.n, "samples": samples}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

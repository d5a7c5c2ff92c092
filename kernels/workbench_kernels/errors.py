"""The errors of ``workbench_kernels``; every message says what to do next."""


class EngineUnavailable(RuntimeError):
    """The container engine does not answer; the message says how to start one."""


class ImageMissing(RuntimeError):
    """The kernel image is not on the engine; the message says how to build it."""


class ImageBuildError(RuntimeError):
    """A kernel image could not be built; the message names the step and the fix."""

"""Kernel provisioning for Workbench (containerized per-user kernels arrive with multi-user mode)."""

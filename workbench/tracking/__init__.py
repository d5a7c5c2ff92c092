"""Experiment tracking: experiments, runs, params, metrics, artifacts, datasets."""

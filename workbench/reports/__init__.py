"""Bokeh charts shared by the lab panels, notebooks and shared reports."""

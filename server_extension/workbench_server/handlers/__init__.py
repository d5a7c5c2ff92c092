"""REST handlers of the Workbench API; each module ends with its URL table."""

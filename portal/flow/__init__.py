"""Tool-agnostic flow data: changes, pipeline runs, deployments, incidents and work items."""

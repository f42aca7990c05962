"""Template runs (tasks): their tables, service functions, event log and the worker that runs them."""

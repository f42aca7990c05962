"""Request pages: one request (timeline, waiting on, decisions, value, live log), lists, queues, ideas."""

"""The `paced` command line (docs/reference.md §2): calls the core and storage, never the
web layer."""

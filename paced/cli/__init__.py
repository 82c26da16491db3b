"""The `paced` command line (SPEC §2): calls the core and storage, never the web layer."""

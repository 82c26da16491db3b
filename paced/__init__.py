"""paced: authentication for the Paced Email API."""

__version__ = "0.1.0"

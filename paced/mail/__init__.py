"""Sending the mail the core queues (`paced.core.mail`): composing each message from its
templates, and handing it to SMTP or to the outbox folder, from a task of the server."""

"""The HTTP edge: parse the request, call the core, render the answer."""

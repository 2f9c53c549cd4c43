# An app file whose "application" cannot be called.
application = 42

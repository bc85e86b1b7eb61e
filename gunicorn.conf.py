"""gunicorn reads this file from the working directory (the repository root, where every process starts).

Its logs go through the same redaction as Django's: an access log line would otherwise carry the
customer's link token (``GET /s/<token>/``).
"""

logger_class = "followthrough.gunicorn_logging.RedactingLogger"

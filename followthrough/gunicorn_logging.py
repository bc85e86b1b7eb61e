"""gunicorn's logger with the secrets filter on its error and access logs (see gunicorn.conf.py)."""

from typing import Any

from gunicorn.glogging import Logger

from followthrough.log_redaction import RedactSecrets


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecrets())

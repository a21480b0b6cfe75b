"""The gateway's log lines carry request lines, and clients put secrets in query strings (Realtime's `apikey` and
`access_token`, Storage's signed-URL `token`): they are masked before a line is written."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"((?:apikey|access_token|token|jwt)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRET.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True

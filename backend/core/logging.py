import logging

from backend.core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every record so log lines can be joined per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True

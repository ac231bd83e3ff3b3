import logging

from backend.core.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every record so log lines can be joined per request.

    Django logs 4xx/5xx responses after the middleware has returned, so the request
    attached to such records is asked first.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current_request_id.get()
        return True

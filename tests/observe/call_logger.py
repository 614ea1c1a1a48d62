"""The guide's example observer plugin (CONTRIBUTING.md, `jackfield_observe(event)`)."""

import logging

from jackfield import CallFailed, CallFinished, TryFailed
from jackfield.provider import hookimpl

log = logging.getLogger("call_logger")


@hookimpl
def jackfield_observe(event):
    # On jackfield's observer thread: a slow backend here delays no call.
    if isinstance(event, CallFinished):
        usage = event.usage
        log.info("%s %s via %s: %.0f ms, first token %.0f ms, %s tokens, overhead %.2f ms",
                 event.call.operation, event.call.model, event.provider,
                 event.duration * 1000, (event.time_to_first_token or 0) * 1000,
                 usage.total_tokens if usage else "?", (event.overhead or 0) * 1000)
    elif isinstance(event, TryFailed):
        log.info("%s failed (%s)%s", event.provider, type(event.error).__name__,
                 f", retry in {event.retry_in:.2f} s" if event.retry_in is not None else "")
    elif isinstance(event, CallFailed):
        log.warning("%s failed: %s", event.call.model, type(event.error).__name__)

"""Lambda's event source mapping of DynamoDB streams: one poller per ``Type: DynamoDB`` event of
the template (``mappings``) reads the stream (``reader``, ``filter_criteria``,
``lambda_record``), delivers batches with Lambda's retry semantics (``retries``) and reports
what it gives up (``on_failure``)."""

from samlocal.stream_mapping.lambda_record import as_lambda_record
from samlocal.stream_mapping.mappings import StreamMapping, mappings_from_template
from samlocal.stream_mapping.poller import StreamPoller

__all__ = ["StreamMapping", "StreamPoller", "as_lambda_record", "mappings_from_template"]

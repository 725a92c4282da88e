"""SQS event source mappings (``Type: SQS`` events), run by the emulator: moto drops records on
its own mappings, so none is ever created there."""

from samlocal.sqs_mapping.poller import SqsMapping, SqsPoller, sqs_mappings_from_template

__all__ = ["SqsMapping", "SqsPoller", "sqs_mappings_from_template"]

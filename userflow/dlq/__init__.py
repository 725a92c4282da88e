"""The dead-letter queues of a stack and how each kind of message in them is re-driven.

`userflow.commands.dlq` is the command line; the modules here each do one job: ``discovery``
finds the queues, ``messages`` tells what a message is, ``queue`` talks to SQS, ``stream`` re-reads
records, ``table_fallback`` rebuilds them from the table, ``redrive`` re-sends each kind,
``republish`` puts records through the pipeline with retries, ``replay`` runs the queues and
counts, ``one_message`` finds one message to show or drop.
"""

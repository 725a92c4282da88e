"""The AWS limits the capacity model weighs demand against: default values, with their sources.

Defaults as AWS documents them (checked on ``LIMITS_CHECKED``); most are adjustable per account
and Region. Every figure of docs/capacity.md that names a limit comes from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

LIMITS_CHECKED = "2026-12-06"


@dataclass(frozen=True)
class Limit:
    name: str
    value: float
    unit: str
    source: str
    url: str
    moves_it: str


API_GATEWAY = Limit(
    "API Gateway requests (account, Region)",
    10_000,
    "requests/s",
    "API Gateway quotas: 10,000 RPS per account and Region across HTTP, REST and WebSocket "
    "APIs, burst bucket 5,000 (2,500 RPS in some newer Regions)",
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
    "Service Quotas increase (L-8A5B8E43)",
)
LAMBDA_INVOCATIONS = Limit(
    "Lambda invocations (10 x concurrency quota)",
    10_000,
    "invocations/s",
    "Lambda concurrency: an execution environment serves at most 10 requests per second, so "
    "the account's rate is 10 x its concurrency quota (1,000 by default)",
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html",
    "raise the concurrency quota (the rate follows); authorizer caching would halve the "
    "protected routes' invocations, but the template refuses it (ReauthorizeEvery: 0)",
)
LAMBDA_CONCURRENCY = Limit(
    "Lambda concurrent executions (account, Region)",
    1_000,
    "environments",
    "Lambda: 1,000 concurrent executions per account and Region by default",
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html",
    "Service Quotas increase; each function also scales by at most 1,000 environments every "
    "10 s (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)",
)
TABLE_WRITES = Limit(
    "DynamoDB table writes (on-demand, per table)",
    40_000,
    "WRU/s",
    "DynamoDB quotas: 40,000 read and 40,000 write request units per on-demand table; a new "
    "on-demand table takes 4,000 WRU/s and 12,000 RRU/s at once, then double its previous "
    "peak within 30 minutes",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    "Service Quotas increase; pre-warm a new table (warm throughput) before a launch",
)
TABLE_READS = Limit(
    "DynamoDB table reads (on-demand, per table)",
    40_000,
    "RRU/s",
    TABLE_WRITES.source,
    TABLE_WRITES.url,
    TABLE_WRITES.moves_it,
)
NEW_TABLE_WRITES = Limit(
    "DynamoDB new on-demand table, first peak",
    4_000,
    "WRU/s",
    "on-demand capacity mode: a new table sustains up to 4,000 writes/s and 12,000 reads/s; "
    "more than double the previous peak within 30 minutes may throttle",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html",
    "warm throughput (pre-warming) before the first peak, or a ramp over 30 minutes",
)
PARTITION_WRITES = Limit(
    "DynamoDB one partition's writes (the list index's USERS key)",
    1_000,
    "WRU/s",
    "each partition serves at most 1,000 write and 3,000 read units per second; every user "
    "item is under one GSI1 partition key (USERS), and a throttled index throttles the "
    "table's writes",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html",
    "shard the list index's partition key (the issue on users in and out: USERS#<n>), or drop "
    "the index for a scan-based admin listing",
)
PUT_EVENTS = Limit(
    "EventBridge PutEvents (account, Region)",
    10_000,
    "entries/s",
    "EventBridge quotas: PutEvents 10,000 requests/s in us-east-1, us-west-2 and eu-west-1; "
    "2,400, 1,200, 600 or 400 in other Regions. Compared here with entries, not requests "
    "(at most 10 per request): the conservative reading",
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
    "Service Quotas increase (the model sends 10 entries per request already)",
)
RULE_INVOCATIONS = Limit(
    "EventBridge rule target invocations",
    18_750,
    "invocations/s",
    "EventBridge quotas: 18,750 invocations/s in us-east-1, us-west-2 and eu-west-1; 4,500, "
    "2,250, 1,100 or 750 elsewhere (delayed, not dropped, past it)",
    "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
    "Service Quotas increase",
)
SECRETS = Limit(
    "Secrets Manager GetSecretValue (through the extension)",
    10_000,
    "calls/s",
    "Secrets Manager quotas: GetSecretValue 10,000 requests/s per account and Region",
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html",
    "the extension's SECRETS_MANAGER_TTL (per function, in the template)",
)
PARAMETERS = Limit(
    "SSM GetParameter (the JWKS, through the extension)",
    40,
    "calls/s",
    "Parameter Store: 40 transactions/s for GetParameter(s) at the default throughput; the "
    "higher-throughput setting (billed) raises it",
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html",
    "Parameter Store higher throughput, or a longer SSM_PARAMETER_STORE_TTL",
)
SES_SANDBOX = Limit(
    "SES sending rate (sandbox)",
    1,
    "emails/s",
    "SES quotas: in the sandbox 1 email/s and 200 per 24 hours; out of it, a rate AWS sets "
    "per account and use case",
    "https://docs.aws.amazon.com/ses/latest/dg/quotas.html",
    "production access, then a sending-quota increase sized to registrations (and resends)",
)
LAMBDA_SCALING_ENVIRONMENTS, LAMBDA_SCALING_SECONDS = 1_000, 10
LAMBDA_SCALING = (
    "each function gains at most 1,000 execution environments every 10 seconds "
    "(https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)"
)
STREAM_READERS = (
    "DynamoDB Streams: no more than two processes should read one shard at once "
    "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html); "
    "ParallelizationFactor: 1 to 10 batches per shard at once "
    "(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html)"
)

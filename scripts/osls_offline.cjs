'use strict';
// Preloaded (`node --require`) by scripts/serverless_package.py so that `osls package` runs with
// no AWS account: the one AWS call it makes (CloudFormation DescribeStacks, to reuse a layer
// already uploaded) goes to the local moto server at USERFLOW_OSLS_AWS_ENDPOINT, which answers
// that the stack does not exist. osls talks to CloudFormation through the AWS SDK v2, which has no
// endpoint setting in the environment; this sets it on the SDK instance osls itself loads.
const path = require('path');

const endpoint = process.env.USERFLOW_OSLS_AWS_ENDPOINT;
const oslsDir = process.env.USERFLOW_OSLS_DIR;
if (!endpoint || !oslsDir) {
  throw new Error('USERFLOW_OSLS_AWS_ENDPOINT and USERFLOW_OSLS_DIR must be set');
}
const sdk = require(require.resolve('aws-sdk', { paths: [path.resolve(oslsDir)] }));
sdk.config.update({ endpoint });

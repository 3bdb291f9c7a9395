# shellcheck shell=bash
# Source me (`source localstack/env.sh`): exports what an AWS SDK or CLI needs to talk to the local
# emulators started by localstack/start.sh (or by docker-compose.yml: same ports). Starts nothing.
# Ports follow LOCALSTACK_PORT / MOTO_PORT like start.sh does.
#   AWS_ENDPOINT_URL                -> LocalStack: S3, Lambda, CloudWatch Logs, STS, IAM
#   AWS_ENDPOINT_URL_DYNAMODB       -> moto: LocalStack's DynamoDB needs a download that fails offline
#   AWS_ENDPOINT_URL_BEDROCK_AGENT  -> moto: LocalStack's community build has no bedrock-agent
#   AWS_MCP_MOTO_ENDPOINT_URL       -> moto, for tests that need real FilterLogEvents filtering
#                                      (set AWS_ENDPOINT_URL_CLOUDWATCH_LOGS to it for that client)
export AWS_ENDPOINT_URL="http://127.0.0.1:${LOCALSTACK_PORT:-4566}"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${MOTO_PORT:-4567}"
export AWS_ENDPOINT_URL_BEDROCK_AGENT="http://127.0.0.1:${MOTO_PORT:-4567}"
export AWS_MCP_MOTO_ENDPOINT_URL="http://127.0.0.1:${MOTO_PORT:-4567}"
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
# The Python awscli (v1, in the emulator venv) reads only AWS_DEFAULT_REGION, not AWS_REGION.
export AWS_DEFAULT_REGION=us-east-1

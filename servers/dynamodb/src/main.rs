fn main() -> std::process::ExitCode {
    shared::run::<aws_dynamodb_mcp::DynamoServer>()
}

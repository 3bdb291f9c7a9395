fn main() -> std::process::ExitCode {
    shared::run::<aws_lambda_mcp::LambdaServer>()
}

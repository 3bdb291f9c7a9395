fn main() -> std::process::ExitCode {
    shared::run::<aws_logs_mcp::LogsServer>()
}

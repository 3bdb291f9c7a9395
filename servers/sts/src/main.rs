fn main() -> std::process::ExitCode {
    shared::run::<aws_sts_mcp::StsServer>()
}

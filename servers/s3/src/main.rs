fn main() -> std::process::ExitCode {
    shared::run::<aws_s3_mcp::S3Server>()
}

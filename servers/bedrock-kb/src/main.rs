fn main() -> std::process::ExitCode {
    shared::run::<aws_bedrock_kb_mcp::BedrockKbServer>()
}

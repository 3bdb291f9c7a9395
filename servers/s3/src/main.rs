use std::process::ExitCode;

use aws_s3_mcp::{Cli, NAME, S3Server};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::main(cli.common.transport, async move {
        let core = shared::Core::load(NAME, env!("CARGO_PKG_VERSION"), &cli.common).await?;
        let server = S3Server::new(core, &cli)?;
        shared::serve(&cli.common, move || server.clone()).await
    })
}

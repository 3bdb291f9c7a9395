use std::process::ExitCode;

use aws_dynamodb_mcp::{Cli, DynamoServer, NAME};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::main(cli.common.transport, async move {
        let core = shared::Core::load(NAME, env!("CARGO_PKG_VERSION"), &cli.common).await?;
        let server = DynamoServer::new(core, &cli)?;
        shared::serve(&cli.common, move || server.clone()).await
    })
}

//! `aws-s3-mcp`: Amazon S3 for AI assistants, read-only unless started with `--allow-writes`.
//!
//! - `clients`: clients per region and the region of each bucket (cached).
//! - `content`: text or binary, and cutting text to the budget on character boundaries.
//! - `tools::buckets`: `list_buckets`, `get_bucket_info`.
//! - `tools::objects`: `list_objects`, `find_objects`.
//! - `tools::read`: `head_object`, `get_object`, `presign_url`.
//! - `tools::write`: `put_object`, `copy_object`, `delete_object` (only with `--allow-writes`).
//! - `resources`: `s3://{bucket}/{key}` resources, the bucket list, and completions.

mod clients;
mod content;
mod resources;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::Value;
use shared::{Allowlist, Capability, CommonArgs, ConfigError, Core, Op, ToolError, ToolSpec, TtlCache};
use tools::{buckets, objects, read, write};

pub const NAME: &str = "aws-s3-mcp";

/// Command line of `aws-s3-mcp`.
#[derive(Debug, clap::Parser)]
#[command(name = NAME, version, about = "MCP server for Amazon S3 (read-only unless --allow-writes)")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these buckets, as glob patterns (repeatable): `--bucket 'logs-*' --bucket reports`.
    #[arg(long = "bucket", env = "MCP_S3_BUCKETS", value_delimiter = ',')]
    pub buckets: Vec<String>,
}

const INSTRUCTIONS: &str = "Amazon S3. Start with list_buckets, then list_objects (delimiter \"/\" browses \
folders) or find_objects (glob over keys). get_object returns text up to the output budget with next_range_start \
to continue; binary objects come back as metadata plus a presigned URL. Paged results: pass next_cursor back \
unchanged with the same arguments. A `truncated` field says what was left out and how to get it.";

const HEAD_BUCKET: Op = Op::new("s3", "HeadBucket", "s3:ListBucket");
const BUCKET_INFO: &[Op] = &[
    HEAD_BUCKET,
    Op::new("s3", "GetBucketVersioning", "s3:GetBucketVersioning"),
    Op::new("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    Op::new("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    Op::new("s3", "GetBucketTagging", "s3:GetBucketTagging"),
    Op::new("s3", "GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"),
];

/// Every tool, what it needs and what it may call (the IAM policy and session policy come from here).
pub(crate) const TOOLS: &[ToolSpec] = &[
    ToolSpec::read("list_buckets", &[buckets::LIST_BUCKETS, HEAD_BUCKET]),
    ToolSpec::read("get_bucket_info", BUCKET_INFO),
    ToolSpec::read("list_objects", &[objects::LIST_OBJECTS, HEAD_BUCKET]),
    ToolSpec::read("find_objects", &[objects::LIST_OBJECTS, HEAD_BUCKET]),
    ToolSpec::read("head_object", &[read::HEAD_OBJECT, GET_VERSION, HEAD_BUCKET]),
    ToolSpec::read(
        "get_object",
        &[read::HEAD_OBJECT, read::GET_OBJECT, GET_VERSION, HEAD_BUCKET],
    ),
    ToolSpec::read("presign_url", &[read::GET_OBJECT, GET_VERSION, HEAD_BUCKET]),
    ToolSpec::needs("put_object", Capability::Writes, &[write::PUT_OBJECT, HEAD_BUCKET]),
    ToolSpec::needs(
        "copy_object",
        Capability::Writes,
        &[write::COPY_OBJECT, read::GET_OBJECT, GET_VERSION, HEAD_BUCKET],
    ),
    ToolSpec::needs(
        "delete_object",
        Capability::Writes,
        &[write::DELETE_OBJECT, DELETE_VERSION, HEAD_BUCKET],
    ),
];

/// With `version_id`, S3 checks the version actions instead (same operations, other IAM actions).
const GET_VERSION: Op = Op::new("s3", "GetObject", "s3:GetObjectVersion");
const DELETE_VERSION: Op = Op::new("s3", "DeleteObject", "s3:DeleteObjectVersion");

#[derive(Clone)]
pub struct S3Server {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    /// The tools this server lists (after capability gates and --tools).
    router: ToolRouter<S3Server>,
    clients: clients::Clients,
    buckets: Allowlist,
    /// get_bucket_info results, keyed by account, region and bucket.
    bucket_info: TtlCache<String, Value>,
}

impl shared::Server for S3Server {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        // Nothing in S3's output is meaningfully null.
        core.drop_nulls = true;
        // Object text and metadata are the user's data: secrets in them are masked unless --no-redact.
        core.redact_results = true;
        shared::error::set_server_hints(hints);
        let buckets = Allowlist::from_flag("bucket", "--bucket", &cli.buckets)?;
        let router = core.gate(Self::all_routers(), TOOLS)?;
        let inner = Inner {
            router,
            clients: clients::Clients::new(&core),
            buckets,
            bucket_info: core.cache(1_000),
        };
        Ok(Self {
            core,
            inner: Arc::new(inner),
        })
    }
}

impl S3Server {
    fn all_routers() -> ToolRouter<Self> {
        Self::bucket_tools() + Self::object_tools() + Self::read_tools() + Self::write_tools()
    }

    /// A bucket a tool may use: a valid name inside the allowlist.
    fn check_bucket(&self, bucket: &str) -> Result<(), ToolError> {
        if bucket.is_empty() {
            return Err(ToolError::invalid(
                "bucket",
                "must not be empty; list_buckets shows the names",
            ));
        }
        let ok_chars = bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
        if !(3..=63).contains(&bucket.len()) || !ok_chars {
            let shown: String = bucket.chars().take(80).collect();
            return Err(ToolError::invalid(
                "bucket",
                format!(
                    "`{shown}` is not a bucket name (3-63 lowercase letters, digits, `.`, `-`); list_buckets shows the names"
                ),
            ));
        }
        self.inner.buckets.check(bucket)
    }
}

/// S3 keys, prefixes, delimiters, patterns and version ids are at most 1,024 bytes: checked before
/// any call, since a longer one cannot be put in a request URL.
pub(crate) fn check_keys(fields: &[(&str, Option<&str>)]) -> Result<(), ToolError> {
    for (field, value) in fields {
        if let Some(v) = value
            && v.len() > 1024
        {
            return Err(ToolError::invalid(
                *field,
                format!("is {} bytes; S3 allows at most 1024", v.len()),
            ));
        }
    }
    Ok(())
}

/// Listings ask S3 for URL-encoded keys (`encoding-type=url`): the XML would otherwise carry
/// control characters raw, which no parser accepts. This undoes it (`+` is a space, `%XX` a byte).
pub(crate) fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Hints for S3's own error codes, naming this server's tools.
fn hints(code: &str, op: Op, region: &str) -> Option<String> {
    Some(match code {
        "NoSuchBucket" => format!(
            "no such bucket: check the name (list_buckets) and that the credentials' account owns it (region {region})"
        ),
        "AccessDenied" if op.operation == "CopyObject" => {
            "the caller needs s3:GetObject on the source object and s3:PutObject on the target (and the KMS keys' use)"
                .into()
        }
        "NoSuchKey" => {
            "no object has this key: keys are case-sensitive; find it with list_objects or find_objects".into()
        }
        "NoSuchVersion" => "no such version of this object: list versions or drop version_id".into(),
        "BadRequest" | "InvalidArgument" => {
            "S3 rejected the request: check version_id (as returned by S3, or drop it), key and prefix".into()
        }
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => {
            format!(
                "the bucket is in another region than {region}; the server retries in the right region where it can"
            )
        }
        _ => return None,
    })
}

impl shared::core::Tools for S3Server {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

shared::server_handler!(S3Server, INSTRUCTIONS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_specs_match_the_tools() {
        shared::gate::check_specs(&S3Server::all_routers(), TOOLS).unwrap();
        let tools = S3Server::all_routers().list_all();
        let delete = tools.iter().find(|t| t.name == "delete_object").unwrap();
        assert_eq!(delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
    }

    #[test]
    fn url_encoded_keys_are_decoded() {
        assert_eq!(url_decode("a+b%2Bc%0A%E2%82%AC/%"), "a b+c\n€/%");
        assert_eq!(url_decode("plain/key.txt"), "plain/key.txt");
        assert_eq!(url_decode("bad%zzend%4"), "bad%zzend%4");
    }

    #[test]
    fn tool_list_fits_its_budget() {
        shared::schema::check_list_budget(S3Server::all_routers().list_all()).unwrap();
    }
}

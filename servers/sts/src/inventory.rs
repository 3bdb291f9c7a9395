//! The inventory: accounts × regions × resource types, through the shared fan-out.
//!
//! One fan-out, bounded by `--concurrency`, a per-item deadline and an overall deadline, holds
//! every account's role session and then every (account, region, type) listing. A listing waits
//! for its own account's session only (one AssumeRole per account, none when the session is still
//! fresh), so a slow account delays nobody else, and an account that cannot be reached is one
//! error entry naming it, not one per region and type. Listings are cached with the server's TTL
//! (errors never are), so paging through a result and repeating a search cost no AWS calls.
//! Whatever fails is an entry with its category, code and the account's alias and id; whatever is
//! not done by the overall deadline is reported as skipped.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use shared::{
    ToolError, TtlCache,
    accounts::Account,
    fanout::{self, Limits, Outcome},
};

use crate::{
    DESCRIBE_LOG_GROUPS, LIST_BUCKETS, LIST_FUNCTIONS, LIST_KNOWLEDGE_BASES, LIST_TABLES,
    sessions::{Clients, Sessions},
};

/// AWS pages read at most per item; past it the item is `capped` and the result incomplete.
const MAX_PAGES: usize = 20;

/// A resource type the inventory lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    S3,
    Dynamodb,
    Lambda,
    Logs,
    BedrockKb,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [Kind::S3, Kind::Dynamodb, Kind::Lambda, Kind::Logs, Kind::BedrockKb];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::S3 => "s3",
            Kind::Dynamodb => "dynamodb",
            Kind::Lambda => "lambda",
            Kind::Logs => "logs",
            Kind::BedrockKb => "bedrock_kb",
        }
    }
}

/// The fan-out's settings, from the command line.
pub(crate) struct Settings {
    pub concurrency: usize,
    pub per_item: Duration,
    pub overall: Duration,
    pub ignore: Vec<String>,
    pub cache: TtlCache<String, Arc<Listed>>,
}

/// One resource.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Resource {
    pub account: String,
    pub region: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub name: String,
    /// The knowledge base id (the name is not unique).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// What one item listed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Listed {
    pub names: Vec<(String, Option<String>)>,
    /// More pages than [`MAX_PAGES`]: the listing stopped there.
    pub capped: bool,
}

/// An account as the inventory sees it: `None` is the server's own credentials.
#[derive(Clone)]
pub(crate) struct Scope {
    pub account: Option<Arc<Account>>,
    pub alias: String,
    pub id: Option<String>,
    pub regions: Vec<String>,
}

/// A failure, an ignored error or a skipped item, naming where it happened.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Everything one inventory run found.
#[derive(Default)]
pub(crate) struct Run {
    pub resources: Vec<Resource>,
    pub errors: Vec<Entry>,
    pub ignored: Vec<Entry>,
    /// Items that finished, failed, were ignored, skipped, capped, served from the cache.
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
    pub capped: Vec<String>,
    pub from_cache: usize,
    pub elapsed: Duration,
}

impl Run {
    pub(crate) fn complete(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && self.capped.is_empty()
    }
}

fn entry(t: &Scope, region: Option<&str>, kind: Option<Kind>) -> Entry {
    Entry {
        account: t.alias.clone(),
        account_id: t.id.clone(),
        region: region.map(str::to_owned),
        kind,
        category: String::new(),
        code: None,
        message: String::new(),
    }
}

/// One unit of work: an account's role session, or one (account, region, type) listing.
#[derive(Clone)]
enum Work {
    Session(Scope),
    List(Scope, String, Kind),
}

/// What a unit of work produced.
enum Done {
    Session,
    Listed(Arc<Listed>, bool),
    /// The account's session failed: reported once, by its `Session` item.
    AccountDown,
}

/// Run the inventory over `targets` × their regions × `kinds`.
///
/// One fan-out holds every session first, then every listing, so listings start as soon as a
/// slot is free instead of after the slowest AssumeRole. A listing waits for its own account's
/// session (shared through a per-run cell, so the role is assumed once), and when that session
/// fails the listing is not reported again: the account's one entry says why.
pub(crate) async fn run(
    settings: &Settings,
    sessions: &Sessions,
    targets: Vec<Scope>,
    kinds: &[Kind],
    refresh: bool,
    ignore: &[String],
) -> Run {
    let started = Instant::now();
    let mut run = Run::default();
    let cells: HashMap<String, OnceCell<Result<(), ToolError>>> = targets
        .iter()
        .filter(|t| t.account.is_some())
        .map(|t| (t.alias.clone(), OnceCell::new()))
        .collect();
    let mut work: Vec<Work> = targets
        .iter()
        .filter(|t| t.account.is_some())
        .map(|t| Work::Session(t.clone()))
        .collect();
    for t in &targets {
        for r in &t.regions {
            work.extend(kinds.iter().map(|k| Work::List(t.clone(), r.clone(), *k)));
        }
    }
    let limits = Limits {
        concurrency: settings.concurrency,
        per_item: settings.per_item,
        overall: settings.overall,
    };
    let cache = &settings.cache;
    let cells = &cells;
    let ensure = |t: Scope| async move {
        match (&t.account, cells.get(&t.alias)) {
            (Some(a), Some(cell)) => cell
                .get_or_init(|| async { sessions.session(a).await.ensure().await.map(|_| ()) })
                .await
                .clone(),
            _ => Ok(()),
        }
    };
    let out = fanout::run(work, &limits, ignore, |w: Work| async move {
        match w {
            Work::Session(t) => ensure(t).await.map(|()| Done::Session),
            Work::List(t, region, kind) => {
                if ensure(t.clone()).await.is_err() {
                    return Ok(Done::AccountDown);
                }
                let key = format!(
                    "{}\u{0}{}\u{0}{region}\u{0}{}",
                    t.alias,
                    t.id.as_deref().unwrap_or(""),
                    kind.as_str()
                );
                if !refresh && let Some(hit) = cache.get(&key).await {
                    return Ok(Done::Listed(hit, true));
                }
                let clients = sessions.clients(t.account.as_ref(), &region).await;
                let listed = Arc::new(list(&clients, kind).await?);
                cache.insert(key, listed.clone()).await;
                Ok(Done::Listed(listed, false))
            }
        }
    })
    .await;

    // Regions where each account's listings worked (to tell a disabled region from bad credentials).
    let mut worked: HashMap<String, HashSet<String>> = HashMap::new();
    for (w, o) in &out {
        if let (Work::List(t, region, _), Outcome::Ok(Done::Listed(..))) = (w, o) {
            worked.entry(t.alias.clone()).or_default().insert(region.clone());
        }
    }
    // Accounts whose session did not come up: their listings are not reported on their own.
    let down: HashSet<String> = out
        .iter()
        .filter_map(|(w, o)| match (w, o) {
            (Work::Session(t), Outcome::Failed { .. } | Outcome::Ignored { .. } | Outcome::Skipped) => {
                Some(t.alias.clone())
            }
            _ => None,
        })
        .collect();
    for (w, outcome) in out {
        match (w, outcome) {
            (Work::Session(_), Outcome::Ok(_)) => {}
            (Work::Session(t), other) => {
                record(&mut run, &t, None, None, other, settings, "assuming the account's role")
            }
            (Work::List(t, _, _), _) if down.contains(&t.alias) => {}
            (Work::List(t, region, kind), Outcome::Ok(Done::Listed(listed, cached))) => {
                run.ok += 1;
                run.from_cache += usize::from(cached);
                if listed.capped {
                    run.capped.push(format!("{} {region} {}", t.alias, kind.as_str()));
                }
                run.resources.extend(listed.names.iter().map(|(name, id)| Resource {
                    account: t.alias.clone(),
                    region: region.clone(),
                    kind,
                    name: name.clone(),
                    id: id.clone(),
                }));
            }
            (Work::List(..), Outcome::Ok(_)) => {}
            (Work::List(t, region, kind), other) => {
                record(&mut run, &t, Some(&region), Some(kind), other, settings, "listing")
            }
        }
    }
    for e in &mut run.errors {
        region_disabled(e, &worked);
    }
    run.resources
        .sort_by(|a, b| (&a.account, &a.region, a.kind, &a.name).cmp(&(&b.account, &b.region, b.kind, &b.name)));
    run.elapsed = started.elapsed();
    run
}

fn record<V>(
    run: &mut Run,
    t: &Scope,
    region: Option<&str>,
    kind: Option<Kind>,
    outcome: Outcome<V>,
    settings: &Settings,
    what: &str,
) {
    let mut e = entry(t, region, kind);
    match outcome {
        Outcome::Ok(_) => {}
        Outcome::Failed {
            category,
            code,
            message,
        } => {
            run.failed += 1;
            e.category = serde_json::to_value(category)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "other".into());
            e.code = code;
            e.message = if e.category == "timeout" && e.code.is_none() {
                format!(
                    "{what} did not finish within the per-item deadline of {} ms",
                    settings.per_item.as_millis()
                )
            } else {
                message
            };
            run.errors.push(e);
        }
        Outcome::Ignored { code } => {
            e.category = "ignored".into();
            e.code = Some(code);
            run.ignored.push(e);
        }
        Outcome::Skipped => {
            run.skipped += 1;
            e.category = "skipped".into();
            e.message = format!(
                "{what} was not done within the overall deadline of {} ms",
                settings.overall.as_millis()
            );
            run.errors.push(e);
        }
    }
}

/// A region not enabled for an account (an opt-in region) refuses the account's credentials as if
/// they were invalid (`UnrecognizedClientException`, `InvalidClientTokenId`, `AuthFailure`). When
/// the same credentials worked in another region of the account, that is what the entry says.
fn region_disabled(e: &mut Entry, worked: &HashMap<String, HashSet<String>>) {
    let Some(region) = e.region.as_deref() else { return };
    let elsewhere = worked.get(&e.account).is_some_and(|ok| ok.iter().any(|r| r != region));
    if e.category == "expired_credentials" && elsewhere {
        e.category = "region_disabled".into();
        e.message = format!(
            "the account's credentials work in its other regions but not in {region}: the region is probably \
             not enabled for this account (opt-in regions are enabled in the account settings), or `regions` in \
             the accounts file should leave it out; AWS said: {}",
            e.message
        );
    }
}

/// List one resource type in one (account, region), following pages up to [`MAX_PAGES`].
async fn list(c: &Clients, kind: Kind) -> Result<Listed, ToolError> {
    let mut out = Listed::default();
    let mut token: Option<String> = None;
    for page in 0.. {
        if page == MAX_PAGES {
            out.capped = true;
            break;
        }
        token = match kind {
            Kind::S3 => {
                let target = c.target("S3", "s3");
                let r = shared::aws::call(
                    LIST_BUCKETS,
                    &target,
                    c.s3()
                        .list_buckets()
                        .bucket_region(c.region())
                        .max_buckets(1000)
                        .set_continuation_token(token)
                        .send(),
                )
                .await?;
                // The filter is new: an endpoint that ignores it still reports each bucket's region.
                out.names.extend(
                    r.buckets()
                        .iter()
                        .filter(|b| b.bucket_region().is_none_or(|br| br == c.region()))
                        .filter_map(|b| Some((b.name()?.to_owned(), None))),
                );
                r.continuation_token().map(str::to_owned)
            }
            Kind::Dynamodb => {
                let target = c.target("DYNAMODB", "dynamodb");
                let r = shared::aws::call(
                    LIST_TABLES,
                    &target,
                    c.dynamodb()
                        .list_tables()
                        .limit(100)
                        .set_exclusive_start_table_name(token)
                        .send(),
                )
                .await?;
                out.names.extend(r.table_names().iter().map(|n| (n.clone(), None)));
                r.last_evaluated_table_name().map(str::to_owned)
            }
            Kind::Lambda => {
                let target = c.target("LAMBDA", "lambda");
                let r = shared::aws::call(
                    LIST_FUNCTIONS,
                    &target,
                    c.lambda().list_functions().max_items(50).set_marker(token).send(),
                )
                .await?;
                out.names.extend(
                    r.functions()
                        .iter()
                        .filter_map(|f| Some((f.function_name()?.to_owned(), None))),
                );
                r.next_marker().map(str::to_owned)
            }
            Kind::Logs => {
                let target = c.target("CLOUDWATCH_LOGS", "logs");
                let r = shared::aws::call(
                    DESCRIBE_LOG_GROUPS,
                    &target,
                    c.logs().describe_log_groups().limit(50).set_next_token(token).send(),
                )
                .await?;
                out.names.extend(
                    r.log_groups()
                        .iter()
                        .filter_map(|g| Some((g.log_group_name()?.to_owned(), None))),
                );
                r.next_token().map(str::to_owned)
            }
            Kind::BedrockKb => {
                let target = c.target("BEDROCK_AGENT", "bedrock-agent");
                let r = shared::aws::call(
                    LIST_KNOWLEDGE_BASES,
                    &target,
                    c.bedrock()
                        .list_knowledge_bases()
                        .max_results(100)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
                out.names.extend(
                    r.knowledge_base_summaries()
                        .iter()
                        .map(|k| (k.name().to_owned(), Some(k.knowledge_base_id().to_owned()))),
                );
                r.next_token().map(str::to_owned)
            }
        }
        .filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(account: &str, region: &str, category: &str) -> Entry {
        Entry {
            account: account.into(),
            account_id: Some("111111111111".into()),
            region: Some(region.into()),
            kind: Some(Kind::Logs),
            category: category.into(),
            code: Some("UnrecognizedClientException".into()),
            message: "The security token included in the request is invalid.".into(),
        }
    }

    #[test]
    fn credentials_refused_in_one_region_only_are_a_disabled_region() {
        let worked = HashMap::from([("prod".to_owned(), HashSet::from(["us-east-1".to_owned()]))]);
        let mut e = failed("prod", "ap-east-1", "expired_credentials");
        region_disabled(&mut e, &worked);
        assert_eq!(e.category, "region_disabled");
        assert!(
            e.message.contains("ap-east-1") && e.message.contains("token included"),
            "{}",
            e.message
        );
        // Refused everywhere: the credentials, not the region.
        let mut e = failed("dev", "ap-east-1", "expired_credentials");
        region_disabled(&mut e, &worked);
        assert_eq!(e.category, "expired_credentials");
        let mut e = failed("prod", "us-east-1", "expired_credentials");
        region_disabled(&mut e, &worked);
        assert_eq!(
            e.category, "expired_credentials",
            "it worked in that very region before"
        );
        let mut e = failed("prod", "ap-east-1", "access_denied");
        region_disabled(&mut e, &worked);
        assert_eq!(e.category, "access_denied");
    }
}

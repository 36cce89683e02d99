//! The tags of many resources in one call, for one read run: the Resource Groups Tagging API's
//! GetResources with a `ResourceARNList` (up to 100 ARNs a call) answers the tags of resources
//! of any service, where each service's own tag call (ListTagsForResource, ListResourceTags)
//! takes one resource.
//!
//! The first tag read of a run asks for the ARNs (their `arn` output) of every resource of a
//! [`Lifecycle::TAGS_BY_ARN`](super::adapter::Lifecycle::TAGS_BY_ARN) type that the run reads
//! ([`ReadCache::for_run`](super::reads::ReadCache::for_run)), 100 a call: the log groups,
//! alarms, cache subnet groups, replication groups and KMS keys of a stack share one call.
//! Each type's `read` then takes its tags from the answer ([`tags`]), and makes its own tag
//! call whenever [`tags`] answers `None`:
//! - outside a read run (no cache), or for an ARN the run was not told of (an old state
//!   without `arn`, a resource whose describe gives another ARN than the state's);
//! - for an ARN absent from the answer: AWS leaves out resources that were never tagged (and a
//!   deleted one), moto leaves out every resource without tags;
//! - when the caller may not call `tag:GetResources` (AccessDenied: a least-privilege deployer),
//!   as the batched IAM reads do. Any other failure is the read's error (after the SDK's
//!   retries), as a failed batched describe is.
//!
//! **Invariant:** only reads of a drift or refresh run use it; deploy, `find`, `ready`,
//! `update` and teardown never decide from it (their contexts have no cache). The tagging API
//! is eventually consistent: a tag changed outside ironplan moments before a drift may show
//! its old value in that run (the next run sees it); a decision that must see the last write
//! (ownership, what to untag) reads the service's own tags.

use std::collections::HashMap;
use std::sync::Arc;

use super::{AwsError, Ctx, sdk_err};

/// Tags as (key, value) pairs, in AWS's order.
pub type Pairs = Vec<(String, String)>;

/// GetResources takes at most 100 ARNs in `ResourceARNList`.
const ARNS_PER_CALL: usize = 100;

/// The tags of `arn` as the run's one GetResources answered them; `None`: read them with the
/// type's own call (no read run, an ARN the run does not read, absent from the answer, or the
/// caller may not call GetResources).
pub async fn tags(ctx: &Ctx, arn: &str) -> Result<Option<Pairs>, AwsError> {
    let Some(cache) = &ctx.reads else { return Ok(None) };
    let arns = run_arns(cache);
    if !arns.iter().any(|a| a == arn) {
        return Ok(None);
    }
    let key = format!("GetResources ResourceARNList={}", arns.join(","));
    match cache.get(key, || get_resources(ctx, &arns)).await {
        Ok(all) => Ok(all.get(arn).cloned()),
        Err(e) if is_denied(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `arn` outputs of every resource of a tag-batched type the run reads, sorted, once each.
fn run_arns(cache: &super::reads::ReadCache) -> Vec<String> {
    let batched = |t: &str| super::registry::get(t).is_some_and(|a| a.tags_by_arn());
    let mut arns: Vec<String> = cache
        .run()
        .filter(|(t, _)| batched(t))
        .filter_map(|(_, out)| out.get("arn").and_then(serde_json::Value::as_str).map(str::to_owned))
        .collect();
    arns.sort();
    arns.dedup();
    arns
}

/// GetResources of `arns`, 100 a call; the tags of each ARN answered. With a `ResourceARNList`
/// AWS takes no paging parameter and answers every listed resource at once; an ARN left out
/// (never tagged, deleted) is simply absent.
async fn get_resources(ctx: &Ctx, arns: &[String]) -> Result<Arc<HashMap<String, Pairs>>, AwsError> {
    let mut all = HashMap::new();
    for chunk in arns.chunks(ARNS_PER_CALL) {
        let out = ctx
            .tagging
            .get_resources()
            .set_resource_arn_list(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_err("GetResources", e))?;
        for m in out.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else { continue };
            let tags = m.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
            all.insert(arn.to_owned(), tags);
        }
    }
    Ok(Arc::new(all))
}

/// The caller may not call GetResources (`tag:GetResources` not allowed).
fn is_denied(e: &AwsError) -> bool {
    matches!(e.code.as_str(), "AccessDenied" | "AccessDeniedException")
}

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
    if arns.binary_search_by(|a| a.as_str().cmp(arn)).is_err() {
        return Ok(None);
    }
    let key = format!("GetResources ResourceARNList={}", arns.join(","));
    match cache.get(key, || get_resources(ctx, &arns)).await {
        Ok(all) => Ok(all.get(arn).cloned()),
        Err(e) if is_denied(&e) => Ok(None),
        Err(mut e) => {
            e.hint = e.hint.or_else(|| {
                Some(format!(
                    "the tags of {arn} (and the run's other tagged resources) are read with the Resource Groups \
                     Tagging API: run the drift again, or check that API's endpoint and quotas"
                ))
            });
            Err(e)
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::super::testing::{assert_reads_tags_batched, ctx, props, tags, wired};
    use super::super::{Ctx, Outputs, create, read, wait_ready};
    use crate::emulator::Moto;

    /// Creates `v` as `ty` and waits for it: its ID and outputs as the state keeps them.
    async fn made(ctx: &Ctx, ty: &str, v: Value) -> (String, Outputs) {
        let c = create(ctx, ty, &mut props(v)).await.unwrap_or_else(|e| panic!("create {ty}: {e}"));
        let out = wait_ready(ctx, ty, &c.id, &c.outputs).await.unwrap_or_else(|e| panic!("ready {ty}: {e}"));
        (c.id, out)
    }

    fn log_group(name: &str) -> Value {
        json!({"log_group_name": name, "retention_in_days": 7, "tags": tags("s-dev", name)})
    }

    fn alarm(name: &str) -> Value {
        json!({"alarm_name": name, "namespace": "AWS/Kinesis", "metric_name": "GetRecords.IteratorAgeMilliseconds",
               "statistic": "Maximum", "period": 60, "evaluation_periods": 5, "threshold": 60000.0,
               "comparison_operator": "GreaterThanThreshold", "tags": tags("s-dev", name)})
    }

    fn key(resource: &str) -> Value {
        json!({"description": resource, "enable_key_rotation": true, "tags": tags("s-dev", resource)})
    }

    async fn subnet(ctx: &Ctx, vpc_cidr: &str, cidr: &str) -> String {
        let vpc = ctx.ec2.create_vpc().cidr_block(vpc_cidr).send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        let subnet = ctx.ec2.create_subnet().vpc_id(&vpc_id).cidr_block(cidr).send().await.expect("subnet");
        subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string()
    }

    fn cache_subnet_group(name: &str, subnet_id: &str) -> Value {
        json!({"cache_subnet_group_name": name, "cache_subnet_group_description": "d",
               "subnet_ids": [subnet_id], "tags": tags("s-dev", name)})
    }

    fn replication_group(id: &str) -> Value {
        json!({"replication_group_id": id, "replication_group_description": "d", "engine": "redis",
               "cache_node_type": "cache.t3.micro", "tags": tags("s-dev", id)})
    }

    #[tokio::test]
    async fn log_groups_read_their_tags_from_one_get_resources() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = [
            made(&ctx, "logs:LogGroup", log_group("/s-dev/a")).await,
            made(&ctx, "logs:LogGroup", log_group("/s-dev/b")).await,
        ];
        assert_reads_tags_batched(&ctx, "logs:LogGroup", &made, "ListTagsForResource").await;
    }

    #[tokio::test]
    async fn alarms_read_their_tags_from_one_get_resources() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "cloudwatch:MetricAlarm";
        let made = [made(&ctx, ty, alarm("s-dev-a")).await, made(&ctx, ty, alarm("s-dev-b")).await];
        assert_reads_tags_batched(&ctx, ty, &made, "ListTagsForResource").await;
    }

    #[tokio::test]
    async fn kms_keys_read_their_tags_from_one_get_resources() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = [made(&ctx, "kms:Key", key("key-a")).await, made(&ctx, "kms:Key", key("key-b")).await];
        assert_reads_tags_batched(&ctx, "kms:Key", &made, "ListResourceTags").await;
    }

    #[tokio::test]
    async fn cache_subnet_groups_and_replication_groups_read_their_tags_from_one_get_resources() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (a, b) =
            (subnet(&ctx, "10.8.0.0/16", "10.8.1.0/24").await, subnet(&ctx, "10.9.0.0/16", "10.9.1.0/24").await);
        let ty = "elasticache:SubnetGroup";
        let made_groups = [
            made(&ctx, ty, cache_subnet_group("s-dev-a", &a)).await,
            made(&ctx, ty, cache_subnet_group("s-dev-b", &b)).await,
        ];
        assert_reads_tags_batched(&ctx, ty, &made_groups, "ListTagsForResource").await;
        let ty = "elasticache:ReplicationGroup";
        let made_rgs =
            [made(&ctx, ty, replication_group("s-dev-ra")).await, made(&ctx, ty, replication_group("s-dev-rb")).await];
        assert_reads_tags_batched(&ctx, ty, &made_rgs, "ListTagsForResource").await;
    }

    /// Two tagged log groups in a read run that reads both, read through `wired`.
    async fn two_groups(ctx: &Ctx) -> [(String, Outputs); 2] {
        [
            made(ctx, "logs:LogGroup", log_group("/s-dev/a")).await,
            made(ctx, "logs:LogGroup", log_group("/s-dev/b")).await,
        ]
    }

    fn run_of<'a>(ty: &'a str, made: &'a [(String, Outputs)]) -> Vec<(&'a str, super::super::Item<'a>)> {
        made.iter().map(|(id, out)| (ty, (id.as_str(), out))).collect()
    }

    /// Each read in `run` equals the read outside one.
    async fn assert_same_reads(ctx: &Ctx, run: &Ctx, made: &[(String, Outputs)]) {
        for (id, out) in made {
            let one = read(ctx, "logs:LogGroup", id, out).await.expect("read");
            assert!(one.is_some(), "{id} exists");
            assert_eq!(read(run, "logs:LogGroup", id, out).await.expect("read in the run"), one, "{id}");
        }
    }

    /// A log group whose tags were all removed outside ironplan is left out of moto's answer
    /// (AWS answers it with no tags): it reads its tags with its own call, and the drift sees
    /// them gone; the other still comes from the answer.
    #[tokio::test]
    async fn a_resource_absent_from_the_answer_reads_its_own_tags() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = two_groups(&ctx).await;
        let bare_arn = made[1].1["arn"].as_str().expect("arn");
        let keys = ["ironplan:stack", "ironplan:resource", "ManagedBy"].map(String::from).to_vec();
        ctx.logs.untag_resource().resource_arn(bare_arn).set_tag_keys(Some(keys)).send().await.expect("untag");
        let (wired, wire) = wired(&ctx);
        let run = wired.for_reads_of(&run_of("logs:LogGroup", &made));
        assert_same_reads(&ctx, &run, &made).await;
        let bare = read(&run, "logs:LogGroup", &made[1].0, &made[1].1).await.expect("read").expect("exists");
        assert_eq!(bare.props["tags"], json!({}), "the removed tags read as removed");
        assert_eq!(wire.of("GetResources").len(), 1);
        let own: Vec<String> = wire.of("ListTagsForResource").into_iter().map(|s| s.body).collect();
        assert_eq!(own.len(), 2, "the absent group's two reads made their own call: {:?}", wire.sent());
        assert!(own.iter().all(|b| b.contains(bare_arn)), "only the group absent from the answer: {own:?}");
    }

    /// An answer without the run's ARNs (AWS's for resources never tagged): each reads its own.
    #[tokio::test]
    async fn an_empty_answer_falls_back_to_each_types_tag_call() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = two_groups(&ctx).await;
        let (wired, wire) = wired(&ctx);
        wire.answer("GetResources", 200, "application/x-amz-json-1.1", r#"{"ResourceTagMappingList":[]}"#);
        let run = wired.for_reads_of(&run_of("logs:LogGroup", &made));
        assert_same_reads(&ctx, &run, &made).await;
        assert_eq!(wire.of("GetResources").len(), 1, "asked once in the run");
        assert_eq!(wire.of("ListTagsForResource").len(), 2, "each group read its own tags");
    }

    /// A deployer without `tag:GetResources` gets the per-resource reads, not an error.
    #[tokio::test]
    async fn access_denied_on_get_resources_falls_back_to_each_types_tag_call() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = two_groups(&ctx).await;
        let (wired, wire) = wired(&ctx);
        let denied =
            r#"{"__type":"AccessDeniedException","Message":"User is not authorized to perform: tag:GetResources"}"#;
        wire.answer("GetResources", 400, "application/x-amz-json-1.1", denied);
        let run = wired.for_reads_of(&run_of("logs:LogGroup", &made));
        assert_same_reads(&ctx, &run, &made).await;
        assert_eq!(wire.of("GetResources").len(), 1, "refused once, not asked again in the run");
        assert_eq!(wire.of("ListTagsForResource").len(), 2);
    }

    /// Any other failure of GetResources is the read's error (as a failed batched describe is),
    /// naming the operation.
    #[tokio::test]
    async fn another_failure_of_get_resources_is_the_reads_error() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = two_groups(&ctx).await;
        let (wired, wire) = wired(&ctx);
        let bad = r#"{"__type":"InvalidParameterException","Message":"bad request"}"#;
        wire.answer("GetResources", 400, "application/x-amz-json-1.1", bad);
        let run = wired.for_reads_of(&run_of("logs:LogGroup", &made));
        let e = read(&run, "logs:LogGroup", &made[0].0, &made[0].1).await.expect_err("failed");
        assert_eq!((e.operation, e.code.as_str()), ("GetResources", "InvalidParameterException"));
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("Tagging API")), "says what to do: {e:?}");
        assert!(wire.of("ListTagsForResource").is_empty());
    }

    /// Outside a read run (deploy, find, update) the tagging API is never asked.
    #[tokio::test]
    async fn reads_outside_a_read_run_never_ask_the_tagging_api() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let made = two_groups(&ctx).await;
        let (wired, wire) = wired(&ctx);
        for (id, out) in &made {
            read(&wired, "logs:LogGroup", id, out).await.expect("read").expect("exists");
        }
        let items: Vec<super::super::Item<'_>> = made.iter().map(|(id, out)| (id.as_str(), out)).collect();
        // A batch read alone gets a run of its own (`in_read_run`), told of nothing: no ARN to ask for.
        super::super::read_many(&wired.for_reads(), "logs:LogGroup", &items).await;
        assert!(wire.of("GetResources").is_empty(), "{:?}", wire.sent());
        assert_eq!(wire.of("ListTagsForResource").len(), 4);
    }

    /// A drift of several tagged types (log groups, an alarm, KMS keys) makes one GetResources
    /// and none of their own tag calls; a tag changed outside ironplan is still reported.
    #[tokio::test]
    async fn a_drift_of_several_tagged_types_makes_one_get_resources() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut resources = serde_json::Map::new();
        let mut add = |name: &str, ty: &str, (id, out): (String, Outputs), planned: &Value| {
            let r =
                json!({"type": ty, "status": "ready", "id": id, "outputs": out, "props": {"tags": planned["tags"]}});
            resources.insert(name.into(), r);
        };
        add(
            "logs_a",
            "logs:LogGroup",
            made(&ctx, "logs:LogGroup", log_group("/s-dev/a")).await,
            &log_group("/s-dev/a"),
        );
        add(
            "logs_b",
            "logs:LogGroup",
            made(&ctx, "logs:LogGroup", log_group("/s-dev/b")).await,
            &log_group("/s-dev/b"),
        );
        let ty = "cloudwatch:MetricAlarm";
        add("alarm", ty, made(&ctx, ty, alarm("s-dev-lag")).await, &alarm("s-dev-lag"));
        add("key", "kms:Key", made(&ctx, "kms:Key", key("key")).await, &key("key"));
        let state: crate::state::State = serde_json::from_value(
            json!({"version": crate::state::STATE_VERSION, "stack": "s-dev", "resources": resources}),
        )
        .expect("state");

        let (wired, wire) = wired(&ctx);
        let report = crate::engine::drift(Arc::new(wired.clone()), &state).await;
        assert!(report.resources.iter().all(|r| r.verdict == crate::engine::Verdict::InSync), "{report:?}");
        assert_eq!(report.resources.len(), 4);
        assert_eq!(wire.of("GetResources").len(), 1, "one call for the run's tags: {:?}", wire.sent());
        assert!(wire.of("ListTagsForResource").is_empty() && wire.of("ListResourceTags").is_empty());

        // A tag changed outside ironplan shows in the next run.
        let arn = state.resources["logs_b"].outputs["arn"].as_str().expect("arn");
        ctx.logs.tag_resource().resource_arn(arn).tags("ManagedBy", "someone-else").send().await.expect("tag");
        let report = crate::engine::drift(Arc::new(wired), &state).await;
        let b = report.resources.iter().find(|r| r.name == "logs_b").expect("logs_b");
        assert_eq!(b.verdict, crate::engine::Verdict::Drifted, "{b:?}");
        assert_eq!(b.properties[0].actual["ManagedBy"], json!("someone-else"));
        assert_eq!(report.count(crate::engine::Verdict::InSync), 3);
        assert_eq!(wire.of("GetResources").len(), 2, "one call per run");
    }

    /// `made`, a type moto's GetResources does not know: in a run whose GetResources answers its
    /// tags as AWS does (a `Wire` answer, with a marker tag added), `read` takes them from the
    /// answer, without `tag_op`; with moto's own answer (which leaves it out) it reads its own.
    async fn assert_tags_from_an_aws_answer(ctx: &Ctx, ty: &str, (id, out): &(String, Outputs), tag_op: &str) {
        let one = read(ctx, ty, id, out).await.expect("read").expect("exists");
        let tags = one.props["tags"].as_object().expect("tags").clone();
        assert!(!tags.is_empty(), "{ty}: the test needs a tagged resource");
        let mut answered: Vec<Value> = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
        answered.push(json!({"Key": "Seen", "Value": "GetResources"}));
        let body = json!({"ResourceTagMappingList": [{"ResourceARN": out["arn"], "Tags": answered}]}).to_string();
        let run = [(ty, (id.as_str(), out))];

        let (answered, wire) = wired(ctx);
        wire.answer("GetResources", 200, "application/x-amz-json-1.1", &body);
        let got = read(&answered.for_reads_of(&run), ty, id, out).await.expect("read in the run").expect("exists");
        let mut want = one.clone();
        want.props["tags"]["Seen"] = json!("GetResources");
        assert_eq!(got, want, "{ty}: the tags of the answer, nothing else changed");
        assert_eq!(wire.of("GetResources").len(), 1);
        assert!(wire.of(tag_op).is_empty(), "{ty}: {tag_op} made although the answer had the tags");

        let (moto_answers, wire) = wired(ctx);
        let got = read(&moto_answers.for_reads_of(&run), ty, id, out).await.expect("read in the run");
        assert_eq!(got, Some(one), "{ty}: moto's answer leaves it out, and it reads its own");
        assert_eq!(wire.of(tag_op).len(), 1, "moto's GetResources knows {ty} now: test it without the Wire's answer");
    }

    #[tokio::test]
    async fn db_subnet_groups_read_their_tags_from_an_aws_shaped_answer() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let (_, subnets) = crate::aws::rds::testing::subnets(&ctx).await;
        let v = json!({"db_subnet_group_name": "s-dev-db", "db_subnet_group_description": "d", "subnet_ids": subnets,
                       "tags": tags("s-dev", "db_subnets")});
        let made = made(&ctx, "rds:DbSubnetGroup", v).await;
        assert_tags_from_an_aws_answer(&ctx, "rds:DbSubnetGroup", &made, "ListTagsForResource").await;
    }

    #[tokio::test]
    async fn kinesis_streams_read_their_tags_from_an_aws_shaped_answer() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let v = json!({"stream_name": "s-dev-events", "shard_count": 1, "tags": tags("s-dev", "stream")});
        let made = made(&ctx, "kinesis:Stream", v).await;
        assert_tags_from_an_aws_answer(&ctx, "kinesis:Stream", &made, "ListTagsForStream").await;
    }
}

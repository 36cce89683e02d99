//! `applicationautoscaling:ScalableTarget`: a resource dimension Application Auto Scaling may
//! scale, with its bounds; its ID is the resource ID, its keys are in the outputs.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Key, NOT_FOUND, Owner, find_target, keyed, not_found_by_message, owner, pairs, retag, target_tags};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, put, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

// In place: RegisterScalableTarget on a registered target changes its bounds; TagResource and
// UntagResource its tags.
pub static SPEC: TypeSpec = TypeSpec {
    name: "applicationautoscaling:ScalableTarget",
    aliases: &[
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "aws_appautoscaling_target",
        "aws:appautoscaling/target:Target",
    ],
    summary: "A resource dimension that Application Auto Scaling may scale, with its bounds",
    calls: "RegisterScalableTarget (every property); update: RegisterScalableTarget (bounds), \
            TagResource / UntagResource (tags); DeregisterScalableTarget",
    props: &[
        Prop::req("service_namespace", Kind::Str, "the scaled resource's service, such as `ecs`"),
        Prop::req("resource_id", Kind::Str, "the scaled resource, such as `service/<cluster>/<service>`"),
        Prop::req("scalable_dimension", Kind::Str, "what is scaled, such as `ecs:service:DesiredCount`"),
        Prop::opt("min_capacity", Kind::Int, "the lowest capacity scaling may set").at_least(0).in_place(),
        Prop::opt("max_capacity", Kind::Int, "the highest capacity scaling may set").at_least(0).in_place(),
        // TagResource / UntagResource on the target's ARN (moto 5.2.5 has neither, nor
        // ListTagsForResource: tested on the wire).
        Prop::opt("tags", Kind::Tags, "tags of the scalable target"),
    ],
    attrs: &[
        attr("id", "the resource ID"),
        attr("resource_id", "the resource ID"),
        attr("scalable_dimension", "the scalable dimension"),
        attr("service_namespace", "the service namespace"),
        attr("arn", "the scalable target's ARN"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct ScalableTarget;

/// What a registration reads.
pub struct Input {
    key: Key,
    min: Option<i32>,
    max: Option<i32>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for ScalableTarget {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["min_capacity", "max_capacity", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        p.for_op("RegisterScalableTarget");
        Ok(Input {
            key: Key::input(p)?,
            min: p.opt_i32("min_capacity")?,
            max: p.opt_i32("max_capacity")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, t: &Input) -> Result<Created, AwsError> {
        let r = keyed!(ctx.applicationautoscaling.register_scalable_target(), &t.key)
            .set_min_capacity(t.min)
            .set_max_capacity(t.max)
            .set_tags((!t.tags.is_empty()).then(|| t.tags.iter().cloned().collect()))
            .send()
            .await
            .map_err(|e| sdk_err("RegisterScalableTarget", e))?;
        Ok(created(&t.key, r.scalable_target_arn()))
    }

    /// RegisterScalableTarget of a registered target changes its bounds (its keys and bounds
    /// only: tags there would not retag it); the tags by TagResource and UntagResource on the
    /// target's ARN (the outputs', else DescribeScalableTargets').
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, t: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let mut outputs = out.clone();
        if changed.iter().any(|c| c == "min_capacity" || c == "max_capacity") {
            let r = keyed!(ctx.applicationautoscaling.register_scalable_target(), &t.key)
                .set_min_capacity(t.min)
                .set_max_capacity(t.max)
                .send()
                .await
                .map_err(|e| sdk_err("RegisterScalableTarget", e))?;
            put(&mut outputs, "arn", r.scalable_target_arn());
        }
        if changed.iter().any(|c| c == "tags") {
            let arn = match out.get("arn").and_then(Value::as_str) {
                Some(arn) => arn.to_string(),
                None => {
                    let target = find_target(ctx, &t.key).await?;
                    let arn = target.as_ref().and_then(|t| t.scalable_target_arn());
                    let Some(arn) = arn else {
                        let message =
                            format!("scalable target {id}: no ARN (DescribeScalableTargets' ScalableTargetARN)");
                        return Err(AwsError::input("TagResource", message)
                            .with_hint("deploy again once the target is registered; ironplan tags it by its ARN"));
                    };
                    arn.to_string()
                }
            };
            retag(ctx, &arn, &t.tags).await?;
            outputs.insert("arn".into(), json!(arn));
        }
        Ok(outputs)
    }

    /// The target of these keys; ours with both identity tags (RegisterScalableTarget carries
    /// them), on the emulator by the ECS service it scales ([`owner`]).
    async fn find(ctx: &Ctx, t: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(target) = find_target(ctx, &t.key).await? else { return Ok(Found::Nothing) };
        let arn = target.scalable_target_arn();
        let created = created(&t.key, arn);
        Ok(match owner(ctx, arn, &t.key).await? {
            Owner::Own(tags) => who.claim(created, pairs(&tags)),
            Owner::Parent(what, tags) => who.claim_by_parent(created, &what, pairs(&tags)),
        })
    }

    async fn ready(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let key = Key::from_outputs(out, "DescribeScalableTargets")?;
        poll(ctx, "DescribeScalableTargets", "the scalable target to be listed", || async {
            Ok(find_target(ctx, &key).await?.map(|_| out.clone()))
        })
        .await
    }

    /// The target's keys, bounds and tags. moto keeps no tags for a target (and has no
    /// ListTagsForResource): on the emulator, and only there, `tags` is left out.
    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let key = Key::from_outputs(out, "DescribeScalableTargets")?;
        let Some(target) = find_target(ctx, &key).await? else { return Ok(None) };
        let mut props = key.outputs();
        props.insert("min_capacity".into(), json!(target.min_capacity()));
        props.insert("max_capacity".into(), json!(target.max_capacity()));
        if !ctx.emulator
            && let Some(arn) = target.scalable_target_arn()
        {
            let tags = target_tags(ctx, arn).await?;
            props.insert("tags".into(), Value::Object(tags.into_iter().map(|(k, v)| (k, Value::from(v))).collect()));
        }
        Ok(Some(Live { props, outputs: created(&key, target.scalable_target_arn()).outputs }))
    }

    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let key = Key::from_outputs(out, "DeregisterScalableTarget")?;
        keyed!(ctx.applicationautoscaling.deregister_scalable_target(), &key)
            .send()
            .await
            .map_err(|e| not_found_by_message(sdk_err("DeregisterScalableTarget", e)))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<bool, AwsError> {
        let key = Key::from_outputs(out, "DescribeScalableTargets")?;
        Ok(find_target(ctx, &key).await?.is_none())
    }
}

/// What `create` (and `find`) return: the keys, the resource ID as the ID, the ARN if known.
fn created(key: &Key, arn: Option<&str>) -> Created {
    let mut outputs = key.outputs();
    outputs.insert("id".into(), json!(key.resource_id));
    put(&mut outputs, "arn", arn);
    Created { id: key.resource_id.clone(), outputs }
}

#[cfg(test)]
mod adopt_tests {
    use super::super::testing::{RESOURCE, target};
    use crate::aws::ecs::testing::{assert_round_trip, ecs_service};
    use crate::aws::testing::{Wire, ctx, tags};
    use crate::emulator::Moto;
    use serde_json::{Value, json};

    /// Keys and bounds read back as planned (tags: not on the emulator, see `read`).
    #[tokio::test]
    async fn scalable_target_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        assert_round_trip(&ctx, "applicationautoscaling:ScalableTarget", &target(RESOURCE), &["tags"]).await;
    }

    /// The bounds change by RegisterScalableTarget alone (moto applies it: read back); the tags
    /// by UntagResource of the dropped keys and TagResource of the plan's on the target's ARN,
    /// which the outputs keep (RegisterScalableTarget's ScalableTargetARN), and nothing else is
    /// sent. moto has none of TagResource, UntagResource, ListTagsForResource: the wire answers
    /// them as AWS does, and `read` off the emulator reports the tags AWS lists.
    #[tokio::test]
    async fn the_tags_change_in_place_on_the_target_arn() {
        let moto = Moto::start().expect("moto");
        let mut ctx = ctx(&moto).await;
        let wire = Wire::default();
        let client = ctx.applicationautoscaling.config().to_builder().interceptor(wire.clone()).build();
        ctx.applicationautoscaling = aws_sdk_applicationautoscaling::Client::from_conf(client);
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        let ty = "applicationautoscaling:ScalableTarget";
        let mut v = target(RESOURCE);
        v["tags"]["Team"] = json!("a");
        let made = crate::aws::create(&ctx, ty, &mut crate::aws::testing::props(v.clone())).await.expect("create");
        let out = crate::aws::wait_ready(&ctx, ty, &made.id, &made.outputs).await.expect("ready");
        let arn = out.get("arn").and_then(Value::as_str).expect("the ARN in the outputs").to_string();
        assert!(arn.contains(":scalable-target/"), "{arn}");

        let sdk = &ctx.applicationautoscaling;
        assert!(sdk.tag_resource().resource_arn(&arn).tags("k", "v").send().await.is_err(), "moto has TagResource now");
        assert!(
            sdk.untag_resource().resource_arn(&arn).tag_keys("k").send().await.is_err(),
            "moto has UntagResource now"
        );
        assert!(sdk.list_tags_for_resource().resource_arn(&arn).send().await.is_err(), "moto lists tags now");

        // The bounds: RegisterScalableTarget only, without tags.
        let before = wire.sent().len();
        let mut bounds = v.clone();
        bounds["max_capacity"] = json!(6);
        let out = crate::aws::testing::assert_updates(&ctx, ty, &made.id, &out, &bounds, &["max_capacity"]).await;
        let ops: Vec<String> = wire.sent()[before..].iter().map(|s| s.op.clone()).collect();
        assert!(!ops.iter().any(|o| o.contains("Tag")), "{ops:?}");
        let register = wire.of("RegisterScalableTarget");
        let body: Value = serde_json::from_str(&register[register.len() - 1].body).expect("json");
        assert_eq!(body.get("Tags"), None, "{body}");
        assert_eq!(body["MaxCapacity"], json!(6));

        let live = json!({"Tags": v["tags"]}).to_string();
        wire.answer("ListTagsForResource", 200, "application/x-amz-json-1.1", &live);
        wire.answer("TagResource", 200, "application/x-amz-json-1.1", "{}");
        wire.answer("UntagResource", 200, "application/x-amz-json-1.1", "{}");
        let before = wire.sent().len();
        let mut retagged = bounds.clone();
        retagged["tags"].as_object_mut().map(|t| t.remove("Team"));
        retagged["tags"]["Owner"] = json!("b");
        let keys = ["tags".to_string()];
        let props = &mut crate::aws::testing::props(retagged.clone());
        let after = crate::aws::update(&ctx, ty, &made.id, &out, props, &keys).await.expect("retag");
        assert_eq!(after.get("arn"), Some(&json!(arn)));
        let ops: Vec<String> = wire.sent()[before..].iter().map(|s| s.op.clone()).collect();
        assert_eq!(ops, ["ListTagsForResource", "UntagResource", "TagResource"], "only the tags");
        let body = |op: &str| -> Value { serde_json::from_str(&wire.of(op).last().expect("sent").body).expect("json") };
        assert_eq!(body("UntagResource"), json!({"ResourceARN": arn, "TagKeys": ["Team"]}));
        assert_eq!(body("TagResource"), json!({"ResourceARN": arn, "Tags": retagged["tags"]}));

        // Off the emulator, `read` reports what ListTagsForResource lists (drift sees a tag
        // changed by hand): here the wire's answer, the tags before the update.
        ctx.emulator = false;
        let read = crate::aws::read(&ctx, ty, &made.id, &after).await.expect("read").expect("there");
        assert_eq!(read.props["tags"], v["tags"]);
    }
}

//! `applicationautoscaling:ScalableTarget`: a resource dimension Application Auto Scaling may
//! scale, with its bounds; its ID is the resource ID, its keys are in the outputs.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Key, NOT_FOUND, Owner, find_target, keyed, not_found_by_message, owner, pairs, target_tags};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, put, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

// In place: RegisterScalableTarget on a registered target changes its bounds.
pub static SPEC: TypeSpec = TypeSpec {
    name: "applicationautoscaling:ScalableTarget",
    aliases: &[
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "aws_appautoscaling_target",
        "aws:appautoscaling/target:Target",
    ],
    summary: "A resource dimension that Application Auto Scaling may scale, with its bounds",
    calls: "RegisterScalableTarget (every property)",
    props: &[
        Prop::req("service_namespace", Kind::Str, "the scaled resource's service, such as `ecs`"),
        Prop::req("resource_id", Kind::Str, "the scaled resource, such as `service/<cluster>/<service>`"),
        Prop::req("scalable_dimension", Kind::Str, "what is scaled, such as `ecs:service:DesiredCount`"),
        Prop::opt("min_capacity", Kind::Int, "the lowest capacity scaling may set").at_least(0).in_place(),
        Prop::opt("max_capacity", Kind::Int, "the highest capacity scaling may set").at_least(0).in_place(),
        // Not in UPDATES: moto 5.2.5 has no TagResource, UntagResource or ListTagsForResource (500).
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
    const UPDATES: &'static [&'static str] = &["min_capacity", "max_capacity"];

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

    /// RegisterScalableTarget of a registered target changes its bounds: the create call again.
    async fn update(
        ctx: &Ctx,
        _id: &str,
        out: &Outputs,
        input: &Input,
        _changed: &[String],
    ) -> Result<Outputs, AwsError> {
        let put = Self::create(ctx, input).await?;
        let mut outputs = out.clone();
        outputs.extend(put.outputs);
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
    use crate::aws::testing::{ctx, tags};
    use crate::emulator::Moto;

    /// Keys and bounds read back as planned (tags: not on the emulator, see `read`).
    #[tokio::test]
    async fn scalable_target_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ecs_service(&ctx, "c1", tags("s-dev", "service")).await;
        assert_round_trip(&ctx, "applicationautoscaling:ScalableTarget", &target(RESOURCE), &["tags"]).await;
    }
}

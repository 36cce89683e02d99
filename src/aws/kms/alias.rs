//! `kms:Alias`: a friendly name for a KMS key.
//!
//! An alias carries no tags: it is ours only if it points at the planned key and that key is
//! this stack's. DescribeKey accepts `alias/<name>` and answers with the key it points at.

use async_trait::async_trait;
use aws_sdk_kms::types::KeyMetadata;
use serde_json::{Map, Value, json};

use super::{ALIAS_NAME, NOT_FOUND, describe, key_tags, pairs};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, poll, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "kms:Alias",
    aliases: &["AWS::KMS::Alias", "aws_kms_alias", "aws:kms/alias:Alias"],
    summary: "A friendly name for a KMS key",
    calls: "CreateAlias (alias_name, target_key_id); teardown: DeleteAlias",
    props: &[
        Prop::req("alias_name", Kind::Str, "the alias, starting with `alias/`").name_rule(&ALIAS_NAME),
        // UpdateAlias.
        Prop::req("target_key_id", Kind::Str, "the key ID or ARN the alias points to").in_place(),
    ],
    attrs: &[attr("id", "the alias name (`alias/...`)"), attr("target_key_id", "the key the alias points to")],
    taggable: false,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct Alias;

/// What a create reads.
pub struct Input {
    alias_name: String,
    target_key_id: String,
}

#[async_trait]
impl Lifecycle for Alias {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["target_key_id"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateAlias");
        Ok(Input { alias_name: p.str("alias_name")?, target_key_id: p.str("target_key_id")? })
    }

    async fn create(ctx: &Ctx, i: &Input) -> Result<Created, AwsError> {
        ctx.kms
            .create_alias()
            .alias_name(&i.alias_name)
            .target_key_id(&i.target_key_id)
            .send()
            .await
            .map_err(|e| sdk_err("CreateAlias", e))?;
        Ok(created(i))
    }

    /// The alias of that name, if it points at the planned key, judged by that key's tags.
    async fn find(ctx: &Ctx, i: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(aliased) = describe(ctx, &i.alias_name).await? else { return Ok(Found::Nothing) };
        if !points_at(ctx, &aliased, &i.target_key_id).await? {
            let why = format!("it points at key `{}`, not at the plan's key", aliased.key_id());
            return Ok(Found::NotOurs { id: i.alias_name.clone(), why });
        }
        let tags = key_tags(ctx, aliased.key_id()).await?.unwrap_or_default();
        Ok(who.claim_by_parent(created(i), &format!("key `{}`", aliased.key_id()), pairs(&tags)))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        // DescribeKey accepts `alias/<name>`: it resolves once the alias exists.
        poll(ctx, "DescribeKey", &format!("alias {id} to exist"), || async move {
            Ok(describe(ctx, id).await?.map(|_| ()))
        })
        .await?;
        Ok(out.clone())
    }

    /// The alias and the key it points at: as the plan wrote it (ID or ARN, kept in the
    /// outputs) when it is that key, else the key ID.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(aliased) = describe(ctx, id).await? else { return Ok(None) };
        let planned = out.get("target_key_id").and_then(Value::as_str);
        let target = match planned {
            Some(t) if points_at(ctx, &aliased, t).await? => t,
            _ => aliased.key_id(),
        };
        let mut props = Map::new();
        props.insert("alias_name".into(), json!(id));
        props.insert("target_key_id".into(), json!(target));
        Ok(Some(Live { props, outputs: out.clone() }))
    }

    /// UpdateAlias points the alias at another key.
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, a: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        let req = ctx.kms.update_alias().alias_name(&a.alias_name).target_key_id(&a.target_key_id);
        req.send().await.map_err(|e| sdk_err("UpdateAlias", e))?;
        let mut outputs = out.clone();
        outputs.insert("target_key_id".into(), serde_json::json!(a.target_key_id));
        Ok(outputs)
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.kms.delete_alias().alias_name(id).send().await.map_err(|e| sdk_err("DeleteAlias", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        let alias = out_str(out, "id", "DescribeKey").unwrap_or(id);
        Ok(describe(ctx, alias).await?.is_none())
    }
}

fn created(i: &Input) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(i.alias_name));
    outputs.insert("target_key_id".into(), json!(i.target_key_id));
    Created { id: i.alias_name.clone(), outputs }
}

/// True if `target` (a key ID, ARN or alias) names the key the alias points at.
async fn points_at(ctx: &Ctx, aliased: &KeyMetadata, target: &str) -> Result<bool, AwsError> {
    Ok(aliased.key_id() == target
        || aliased.arn() == Some(target)
        || describe(ctx, target).await?.is_some_and(|t| t.key_id() == aliased.key_id()))
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, ctx, find};
    use crate::emulator::Moto;

    /// An alias made outside ironplan, on a key made outside ironplan, under a plan alias's
    /// name: an alias has no tags, and its key is not this stack's.
    #[tokio::test]
    async fn a_look_alike_alias_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.expect("key").key_metadata().map(|m| m.key_id().to_string());
        let key = key.expect("key id");
        ctx.kms.create_alias().alias_name("alias/s-dev-key").target_key_id(&key).send().await.expect("alias");
        let v = json!({"alias_name": "alias/s-dev-key", "target_key_id": key});
        assert_not_ours(&find(&ctx, "kms:Alias", &v).await, "has no `ironplan:stack` tag");
    }

    /// An alias pointed at another key by hand reads back as that key.
    #[tokio::test]
    async fn read_reports_the_key_the_alias_points_at() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let new_key =
            || async { ctx.kms.create_key().send().await.expect("key").key_metadata().cloned().expect("meta") };
        let (planned, other) = (new_key().await, new_key().await);
        let arn = planned.arn().expect("arn").to_string();
        let mut p = crate::aws::testing::props(json!({"alias_name": "alias/s-dev-key", "target_key_id": arn}));
        let a = crate::aws::create(&ctx, "kms:Alias", &mut p).await.unwrap();
        let live = crate::aws::read(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap().expect("the alias");
        assert_eq!(live.props["target_key_id"], json!(arn), "the plan's ARN, not the key ID");
        ctx.kms.update_alias().alias_name(&a.id).target_key_id(other.key_id()).send().await.unwrap();
        let live = crate::aws::read(&ctx, "kms:Alias", &a.id, &a.outputs).await.unwrap().expect("the alias");
        assert_eq!(live.props["target_key_id"], json!(other.key_id()));

        // An update points it back at the plan's key.
        let keys = ["target_key_id".to_string()];
        let out =
            crate::aws::update(&ctx, "kms:Alias", &a.id, &a.outputs, &mut p_again(&arn), &keys).await.expect("update");
        let live = crate::aws::read(&ctx, "kms:Alias", &a.id, &out).await.unwrap().expect("the alias");
        assert_eq!(live.props["target_key_id"], json!(arn));
    }

    fn p_again(arn: &str) -> Props {
        crate::aws::testing::props(json!({"alias_name": "alias/s-dev-key", "target_key_id": arn}))
    }
}

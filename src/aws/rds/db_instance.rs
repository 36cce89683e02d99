//! `rds:DbInstance`: an instance of an Aurora cluster (db.serverless for Serverless v2).
//!
//! A cluster member has no snapshot of its own: DeleteDBInstance takes no final snapshot
//! options.

use async_trait::async_trait;
use aws_sdk_rds::types::{DbInstance as Instance, Tag};
use serde_json::{Map, json};

use super::{DB_CLUSTER_IDENTIFIER, DB_INSTANCE_IDENTIFIER, busy, check_status, found, pairs};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{
    AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, put, required, sdk_err, settle, tag_table,
};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "rds:DbInstance",
    aliases: &[
        "AWS::RDS::DBInstance",
        "aws_rds_cluster_instance",
        "aws_db_instance",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/instance:Instance",
    ],
    summary: "An instance of an Aurora cluster (db.serverless for Serverless v2)",
    calls: "CreateDBInstance (all properties); DeleteDBInstance (a cluster member: no final snapshot options)",
    props: &[
        Prop::req("db_instance_identifier", Kind::Str, "name of the instance").name_rule(&DB_INSTANCE_IDENTIFIER),
        Prop::req(
            "db_cluster_identifier",
            Kind::Str,
            "the Aurora cluster the instance joins (ironplan supports cluster members only)",
        )
        .name_rule(&DB_CLUSTER_IDENTIFIER),
        Prop::req("db_instance_class", Kind::Str, "instance class, such as `db.serverless` or `db.r6g.large`")
            .in_place(),
        Prop::req("engine", Kind::Str, "the cluster's engine, such as `aurora-postgresql`"),
        Prop::opt("publicly_accessible", Kind::Bool, "give the instance a public address").in_place(),
        Prop::opt("auto_minor_version_upgrade", Kind::Bool, "apply minor engine upgrades in the maintenance window")
            .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the instance"),
    ],
    attrs: &[
        attr("id", "identifier of the instance"),
        attr("arn", "ARN of the instance"),
        attr("endpoint", "host name of the instance"),
    ],
    taggable: true,
    holds_data: true,
    create_secs: 540,
    delete_secs: 720,
    implied: &[],
};

pub struct DbInstance;

/// What a create reads.
pub struct Input {
    id: String,
    cluster: String,
    class: String,
    engine: String,
    public: Option<bool>,
    auto_minor: Option<bool>,
    tags: Vec<Tag>,
}

const DESCRIBE: &str = "DescribeDBInstances";

#[async_trait]
impl Lifecycle for DbInstance {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = super::NOT_FOUND;
    const UPDATES: &'static [&'static str] =
        &["db_instance_class", "publicly_accessible", "auto_minor_version_upgrade", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateDBInstance");
        Ok(Input {
            id: p.str("db_instance_identifier")?,
            cluster: p.str("db_cluster_identifier")?,
            class: p.str("db_instance_class")?,
            engine: p.str("engine")?,
            public: p.opt_bool("publicly_accessible")?,
            auto_minor: p.opt_bool("auto_minor_version_upgrade")?,
            tags: super::tags(p.tags()?),
        })
    }

    async fn create(ctx: &Ctx, i: &Input) -> Result<Created, AwsError> {
        let r = ctx
            .rds
            .create_db_instance()
            .db_instance_identifier(&i.id)
            .db_cluster_identifier(&i.cluster)
            .db_instance_class(&i.class)
            .engine(&i.engine)
            .set_publicly_accessible(i.public)
            .set_auto_minor_version_upgrade(i.auto_minor)
            .set_tags(Some(i.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateDBInstance", e))?;
        let instance = r.db_instance();
        let id = instance.and_then(|i| i.db_instance_identifier()).unwrap_or(&i.id).to_string();
        Ok(Created { outputs: outputs(Outputs::new(), &id, instance), id })
    }

    /// The instance of that identifier (unique in the account and region): ours only with both
    /// identity tags, which the create carries.
    async fn find(ctx: &Ctx, i: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(instance) = describe(ctx, &i.id).await? else { return Ok(Found::Nothing) };
        let outputs = outputs(Outputs::new(), &i.id, Some(&instance));
        Ok(who.claim(Created { id: i.id.clone(), outputs }, pairs(instance.tag_list())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let what = format!("DB instance {id}");
        poll(ctx, DESCRIBE, &format!("{what} to be available"), || async {
            let Some(i) = describe(ctx, id).await? else { return Ok(None) };
            let status = required(i.db_instance_status(), DESCRIBE, "DBInstance.DBInstanceStatus")?;
            check_status(DESCRIBE, &what, &status)?;
            Ok((status == "available").then(|| outputs(out.clone(), id, Some(&i))))
        })
        .await
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(i) = describe(ctx, id).await? else { return Ok(None) };
        let mut props = Map::new();
        props.insert("db_instance_identifier".into(), json!(i.db_instance_identifier().unwrap_or(id)));
        put(&mut props, "db_cluster_identifier", i.db_cluster_identifier());
        put(&mut props, "db_instance_class", i.db_instance_class());
        put(&mut props, "engine", i.engine());
        put(&mut props, "publicly_accessible", i.publicly_accessible());
        put(&mut props, "auto_minor_version_upgrade", i.auto_minor_version_upgrade());
        props.insert("tags".into(), tag_table(pairs(i.tag_list())));
        Ok(Some(Live { props, outputs: outputs(out.clone(), id, Some(&i)) }))
    }

    /// One ModifyDBInstance, applied immediately (a new class restarts the instance); the
    /// tags; then the instance is waited for until available.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, i: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|k| k == p);
        if changed.iter().any(|k| k != "tags") {
            let mut req = ctx.rds.modify_db_instance().db_instance_identifier(id).apply_immediately(true);
            if has("db_instance_class") {
                req = req.db_instance_class(&i.class);
            }
            if has("publicly_accessible") {
                req = req.publicly_accessible(i.public.unwrap_or(false));
            }
            if has("auto_minor_version_upgrade") {
                req = req.set_auto_minor_version_upgrade(i.auto_minor);
            }
            req.send().await.map_err(|e| sdk_err("ModifyDBInstance", e))?;
        }
        if has("tags") {
            let Some(instance) = describe(ctx, id).await? else {
                return Err(AwsError::input("AddTagsToResource", format!("DB instance {id} is gone")));
            };
            super::retag(ctx, instance.db_instance_arn().unwrap_or_default(), &i.tags).await?;
        }
        Self::ready(ctx, id, out).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        const OP: &str = "DeleteDBInstance";
        // AWS refuses the call while the instance is still being created or modified (a rollback).
        settle(ctx, OP, id, busy("InvalidDBInstanceState"), || async {
            ctx.rds.delete_db_instance().db_instance_identifier(id).send().await.map_err(|e| sdk_err(OP, e)).map(|_| ())
        })
        .await
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }
}

/// `base` with the ID and what AWS says of the instance.
fn outputs(mut out: Outputs, id: &str, i: Option<&Instance>) -> Outputs {
    out.insert("id".into(), json!(id));
    put(&mut out, "arn", i.and_then(|i| i.db_instance_arn()));
    put(&mut out, "endpoint", i.and_then(|i| i.endpoint()).and_then(|e| e.address()));
    out
}

/// The instance of identifier `id`, if it exists.
async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Instance>, AwsError> {
    let r = ctx.rds.describe_db_instances().db_instance_identifier(id).send().await;
    let r = found(r.map_err(|e| sdk_err(DESCRIBE, e)))?;
    Ok(r.and_then(|r| r.db_instances.unwrap_or_default().into_iter().next()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::testing::{cluster_by_hand, reads_back, reads_gone_once_deleted};
    use crate::aws::testing::{assert_not_ours, ctx, find, tags};
    use crate::emulator::Moto;

    fn planned(id: &str) -> Value {
        json!({"db_instance_identifier": id, "db_cluster_identifier": "s-dev-aurora",
               "db_instance_class": "db.serverless", "engine": "aurora-postgresql",
               "tags": tags("s-dev", "db_writer")})
    }

    /// An instance made outside ironplan under the plan's identifier is not ours.
    #[tokio::test]
    async fn a_look_alike_instance_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        cluster_by_hand(&ctx, "s-dev-aurora").await;
        ctx.rds
            .create_db_instance()
            .db_instance_identifier("s-dev-aurora-1")
            .db_cluster_identifier("s-dev-aurora")
            .db_instance_class("db.serverless")
            .engine("aurora-postgresql")
            .send()
            .await
            .expect("instance by hand");
        let instance = planned("s-dev-aurora-1");
        assert_not_ours(&find(&ctx, "rds:DbInstance", &instance).await, "has no `ironplan:stack` tag");
    }

    /// What `read` reports is what the plan said, with the outputs `wait_ready` gave; once
    /// deleted, it reports the instance gone.
    #[tokio::test]
    async fn an_instance_reads_back_as_planned_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        cluster_by_hand(&ctx, "s-dev-aurora").await;
        let mut v = planned("s-dev-aurora-1");
        v["publicly_accessible"] = json!(false);
        v["auto_minor_version_upgrade"] = json!(false);
        let (id, out) = reads_back(&ctx, "rds:DbInstance", &v, 0).await;
        assert!(out.get("endpoint").is_some_and(|e| e.is_string()), "{out:?}");
        v["db_instance_class"] = json!("db.r6g.large");
        v["auto_minor_version_upgrade"] = json!(true);
        v["tags"]["Team"] = json!("data");
        let keys = ["db_instance_class", "auto_minor_version_upgrade", "tags"].map(String::from);
        let mut p = crate::aws::testing::props(v.clone());
        let out = crate::aws::update(&ctx, "rds:DbInstance", &id, &out, &mut p, &keys).await.expect("update");
        crate::aws::testing::assert_reads_back(&ctx, "rds:DbInstance", &v, &id, &out).await;
        reads_gone_once_deleted(&ctx, "rds:DbInstance", &id, &out).await;
    }
}

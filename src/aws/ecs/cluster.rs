//! `ecs:Cluster`: an ECS cluster, by name.

use async_trait::async_trait;
use aws_sdk_ecs::types::{ClusterField, ClusterSetting, ClusterSettingName};
use serde_json::{Value, json};

use super::{CLUSTER_NAME, NOT_FOUND, ecs_tags, failed, non_empty, outputs, pairs, tag_table};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const NAME_VALUE: &[Prop] =
    &[Prop::req("name", Kind::Str, "the setting's name"), Prop::req("value", Kind::Str, "its value")];

pub static SPEC: TypeSpec = TypeSpec {
    name: "ecs:Cluster",
    aliases: &["AWS::ECS::Cluster", "aws_ecs_cluster", "aws:ecs/cluster:Cluster"],
    summary: "An ECS cluster",
    calls: "CreateCluster (cluster_name, settings, tags)",
    props: &[
        Prop::req("cluster_name", Kind::Str, "the cluster's name").name_rule(&CLUSTER_NAME),
        // UpdateClusterSettings.
        Prop::opt(
            "settings",
            Kind::List(&Kind::Struct(NAME_VALUE)),
            "cluster settings, such as `{ name = \"containerInsights\", value = \"enabled\" }`",
        )
        .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the cluster"),
    ],
    attrs: &[attr("id", "the cluster's name"), attr("name", "the cluster's name"), attr("arn", "the cluster's ARN")],
    taggable: true,
    holds_data: false,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

pub struct Cluster;

/// What a create reads.
pub struct Input {
    name: String,
    settings: Vec<ClusterSetting>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Cluster {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["settings", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        p.for_op("CreateCluster");
        let name = p.str("cluster_name")?;
        let mut settings = Vec::new();
        for mut s in p.structs("settings")? {
            let setting = ClusterSetting::builder()
                .name(ClusterSettingName::from(s.str("name")?.as_str()))
                .value(s.str("value")?)
                .build();
            s.finish()?;
            settings.push(setting);
        }
        Ok(Input { name, settings, tags: p.tags()? })
    }

    async fn create(ctx: &Ctx, c: &Input) -> Result<Created, AwsError> {
        const OP: &str = "CreateCluster";
        let r = ctx
            .ecs
            .create_cluster()
            .cluster_name(&c.name)
            .set_settings(non_empty(c.settings.clone()))
            .set_tags(ecs_tags(&c.tags))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let arn = required(r.cluster().and_then(|c| c.cluster_arn()), OP, "a cluster ARN")?;
        Ok(created(&c.name, &arn))
    }

    /// The cluster of that name, ACTIVE or PROVISIONING (what a create leaves while capacity
    /// providers are set up: `ready` waits it out); DEPROVISIONING, INACTIVE and FAILED do
    /// not count.
    async fn find(ctx: &Ctx, c: &Input, who: &Identity) -> Result<Found, AwsError> {
        let found = match describe(ctx, &c.name).await {
            Ok(found) => found,
            Err(e) => return absent(e),
        };
        let Some(cluster) = found.filter(|x| matches!(x.status(), Some("ACTIVE" | "PROVISIONING"))) else {
            return Ok(Found::Nothing);
        };
        let arn = required(cluster.cluster_arn(), "DescribeClusters", "a cluster ARN")?;
        Ok(who.claim(created(&c.name, &arn), pairs(cluster.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, "DescribeClusters", "the cluster to become ACTIVE", || async {
            match describe(ctx, id).await?.as_ref().and_then(|c| c.status()) {
                Some("ACTIVE") => Ok(Some(out.clone())),
                Some("FAILED") => Err(failed("DescribeClusters", format!("cluster {id} failed to provision"))),
                // PROVISIONING while capacity providers are set up; missing just after creation.
                _ => Ok(None),
            }
        })
        .await
    }

    async fn read(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(cluster) = describe(ctx, id).await?.filter(|c| c.status() != Some("INACTIVE")) else {
            return Ok(None);
        };
        let mut props = serde_json::Map::new();
        props.insert("cluster_name".into(), json!(id));
        let settings: Vec<Value> = cluster
            .settings()
            .iter()
            .filter_map(|s| Some(json!({"name": s.name()?.as_str(), "value": s.value()?})))
            .collect();
        if !settings.is_empty() {
            props.insert("settings".into(), Value::Array(settings));
        }
        props.insert("tags".into(), tag_table(cluster.tags()));
        let arn = required(cluster.cluster_arn(), "DescribeClusters", "a cluster ARN")?;
        Ok(Some(Live { props, outputs: created(id, &arn).outputs }))
    }

    /// UpdateCluster (its settings: Container Insights); the tags.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, c: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        if changed.iter().any(|k| k == "settings") {
            let req = ctx.ecs.update_cluster().cluster(id).set_settings(Some(c.settings.clone()));
            req.send().await.map_err(|e| sdk_err("UpdateCluster", e))?;
        }
        if changed.iter().any(|k| k == "tags") {
            super::retag(ctx, crate::aws::out_str(out, "arn", "TagResource")?, &c.tags).await?;
        }
        Ok(out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ecs.delete_cluster().cluster(id).send().await.map_err(|e| sdk_err("DeleteCluster", e))?;
        Ok(())
    }

    /// A deleted cluster stays listed as INACTIVE for a while.
    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none_or(|c| c.status() == Some("INACTIVE")))
    }
}

fn created(name: &str, arn: &str) -> Created {
    Created { id: name.to_string(), outputs: outputs(json!({"id": name, "name": name, "arn": arn})) }
}

/// The cluster named `name` (with its tags and settings), or `None` if ECS does not know it.
async fn describe(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_ecs::types::Cluster>, AwsError> {
    let r = ctx
        .ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .include(ClusterField::Settings)
        .send()
        .await
        .map_err(|e| sdk_err("DescribeClusters", e))?;
    Ok(r.clusters().iter().find(|c| c.cluster_name() == Some(name)).cloned())
}

#[cfg(test)]
mod adopt_tests {
    use super::super::testing::{adopt, assert_round_trip, assert_same, make, remove};
    use crate::aws::testing::{assert_not_ours, ctx, find, tags};
    use crate::emulator::Moto;
    use serde_json::json;

    #[tokio::test]
    async fn cluster() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:Cluster";
        let mine = json!({"cluster_name": "web-dev", "tags": tags("s-dev", "cluster")});
        assert!(adopt(&ctx, ty, &mine).await.is_none());
        let created = make(&ctx, ty, &mine).await;
        assert_same(&created, &adopt(&ctx, ty, &mine).await.expect("adopted"));

        // Another stack's cluster of the same name, or one made by hand, is not ours.
        make(&ctx, ty, &json!({"cluster_name": "web-prod", "tags": tags("s-prod", "cluster")})).await;
        let claimed = json!({"cluster_name": "web-prod", "tags": tags("s-dev", "cluster")});
        assert_not_ours(&find(&ctx, ty, &claimed).await, "stack `s-prod`");
        ctx.ecs.create_cluster().cluster_name("manual").send().await.expect("a cluster made by hand");
        let claimed = json!({"cluster_name": "manual", "tags": tags("s-dev", "cluster")});
        assert_not_ours(&find(&ctx, ty, &claimed).await, "has no `ironplan:stack` tag");

        // INACTIVE does not count.
        remove(&ctx, ty, &created).await;
        assert!(adopt(&ctx, ty, &mine).await.is_none());
    }

    /// What `read` reports is what the plan said: name, settings, tags.
    #[tokio::test]
    async fn cluster_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:Cluster";
        let planned = json!({
            "cluster_name": "web-dev",
            "settings": [{"name": "containerInsights", "value": "enabled"}],
            "tags": tags("s-dev", "cluster"),
        });
        assert_round_trip(&ctx, ty, &planned, &[]).await;
    }

    /// Container Insights and the tags change in place, and read back so.
    #[tokio::test]
    async fn cluster_updates_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut v = json!({"cluster_name": "web-dev", "settings": [{"name": "containerInsights", "value": "enabled"}],
                           "tags": tags("s-dev", "cluster")});
        let c = crate::aws::create(&ctx, "ecs:Cluster", &mut crate::aws::testing::props(v.clone())).await.unwrap();
        v["settings"][0]["value"] = json!("disabled");
        v["tags"]["Team"] = json!("web");
        crate::aws::testing::assert_updates(&ctx, "ecs:Cluster", &c.id, &c.outputs, &v, &["settings", "tags"]).await;
    }
}

//! `ecs:Service`: an ECS service, by its ARN (its cluster kept in the outputs).
//!
//! A service is ready when it is stable as AWS's `services-stable` waiter defines it: ACTIVE,
//! one deployment, and as many running tasks as desired. Its teardown scales it to zero and
//! waits until its tasks have stopped (each Fargate task holds a network interface in its
//! subnet until then) before deleting it.

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentRolloutState, DesiredStatus, LaunchType, NetworkConfiguration,
    PropagateTags,
};
use serde_json::{Map, json};

use super::{NOT_FOUND, SERVICE_NAME, describe_service, ecs_tags, failed, non_empty, outputs, pairs, tag_table};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{
    AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, out_str, poll, put, required, sdk_err,
};
use crate::plan::{Node, NodeKind, Resource};
use crate::schema::{Implied, Kind, PlanView, Prop, TypeSpec, attr};

const AWSVPC_CONFIGURATION: &[Prop] = &[
    Prop::req("subnets", Kind::List(&Kind::Str), "the subnets the tasks' network interfaces are placed in"),
    Prop::opt("security_groups", Kind::List(&Kind::Str), "the tasks' security groups"),
    Prop::opt("assign_public_ip", Kind::Str, "`ENABLED` or `DISABLED` (default)"),
];

const NETWORK_CONFIGURATION: &[Prop] = &[Prop::req(
    "awsvpc_configuration",
    Kind::Struct(AWSVPC_CONFIGURATION),
    "subnets and security groups of the tasks",
)];

// In place: what UpdateService takes (desiredCount, taskDefinition, platformVersion,
// networkConfiguration, propagateTags, enableECSManagedTags); the cluster, the name and the
// launch type are fixed at creation.
pub static SPEC: TypeSpec = TypeSpec {
    name: "ecs:Service",
    aliases: &["AWS::ECS::Service", "aws_ecs_service", "aws:ecs/service:Service"],
    summary: "An ECS service that keeps a number of tasks running",
    calls: "CreateService (every property); teardown: UpdateService (desired_count 0), DeleteService",
    props: &[
        Prop::req("cluster", Kind::Str, "the cluster's name or ARN"),
        Prop::req("service_name", Kind::Str, "the service's name, unique in the cluster").name_rule(&SERVICE_NAME),
        Prop::req("task_definition", Kind::Str, "the task definition ARN (or `family:revision`) to run").in_place(),
        Prop::opt("desired_count", Kind::Int, "how many tasks to keep running").at_least(0).in_place(),
        Prop::opt("launch_type", Kind::Str, "`FARGATE`, `EC2` or `EXTERNAL`"),
        Prop::opt("platform_version", Kind::Str, "the Fargate platform version (default `LATEST`)").in_place(),
        Prop::opt(
            "network_configuration",
            Kind::Struct(NETWORK_CONFIGURATION),
            "the tasks' network (required for the `awsvpc` network mode)",
        )
        .in_place(),
        Prop::opt("propagate_tags", Kind::Str, "copy tags to tasks from `SERVICE` or `TASK_DEFINITION`, or `NONE`")
            .in_place(),
        Prop::opt("enable_ecs_managed_tags", Kind::Bool, "let ECS tag tasks with the cluster and service names")
            .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the service"),
    ],
    attrs: &[attr("id", "the service's ARN"), attr("name", "the service's name"), attr("arn", "the service's ARN")],
    taggable: true,
    holds_data: false,
    create_secs: 120,
    delete_secs: 120,
    implied: &[
        Implied {
            why: "Fargate tasks in private subnets pull images and secrets through the subnet's route; without it tasks fail to start",
            find: subnet_route_associations,
        },
        Implied {
            why: "tasks fail to start until the file system has a mount target in their AZ",
            find: efs_mount_targets,
        },
    ],
};

pub struct Service;

/// What a create reads.
pub struct Input {
    cluster: String,
    name: String,
    task_definition: String,
    desired_count: Option<i32>,
    launch_type: Option<LaunchType>,
    platform_version: Option<String>,
    network: Option<NetworkConfiguration>,
    propagate_tags: Option<PropagateTags>,
    managed_tags: Option<bool>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Service {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &[
        "task_definition",
        "desired_count",
        "platform_version",
        "network_configuration",
        "propagate_tags",
        "enable_ecs_managed_tags",
        "tags",
    ];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        p.for_op("CreateService");
        let cluster = p.str("cluster")?;
        let name = p.str("service_name")?;
        let task_definition = p.str("task_definition")?;
        let desired_count = p.opt_i32("desired_count")?;
        let launch_type = p.opt_str("launch_type")?.map(|l| LaunchType::from(l.as_str()));
        let platform_version = p.opt_str("platform_version")?;
        let network = match p.opt_struct("network_configuration")? {
            None => None,
            Some(mut n) => {
                let mut vpc = n.opt_struct("awsvpc_configuration")?.ok_or_else(|| {
                    AwsError::input(
                        "CreateService",
                        "required property `network_configuration.awsvpc_configuration` is missing",
                    )
                })?;
                let config = AwsVpcConfiguration::builder()
                    .set_subnets(Some(vpc.str_list("subnets")?))
                    .set_security_groups(non_empty(vpc.str_list("security_groups")?))
                    .set_assign_public_ip(vpc.opt_str("assign_public_ip")?.map(|a| AssignPublicIp::from(a.as_str())))
                    .build()
                    .map_err(|e| AwsError::input("CreateService", e.to_string()))?;
                vpc.finish()?;
                n.finish()?;
                Some(NetworkConfiguration::builder().awsvpc_configuration(config).build())
            }
        };
        let propagate_tags = p.opt_str("propagate_tags")?.map(|t| PropagateTags::from(t.as_str()));
        let managed_tags = p.opt_bool("enable_ecs_managed_tags")?;
        Ok(Input {
            cluster,
            name,
            task_definition,
            desired_count,
            launch_type,
            platform_version,
            network,
            propagate_tags,
            managed_tags,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, s: &Input) -> Result<Created, AwsError> {
        const OP: &str = "CreateService";
        let r = ctx
            .ecs
            .create_service()
            .cluster(&s.cluster)
            .service_name(&s.name)
            .task_definition(&s.task_definition)
            .set_desired_count(s.desired_count)
            .set_launch_type(s.launch_type.clone())
            .set_platform_version(s.platform_version.clone())
            .set_network_configuration(s.network.clone())
            .set_propagate_tags(s.propagate_tags.clone())
            .set_enable_ecs_managed_tags(s.managed_tags)
            .set_tags(ecs_tags(&s.tags))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let arn = required(r.service().and_then(|s| s.service_arn()), OP, "a service ARN")?;
        Ok(created(&arn, &s.name, &s.cluster))
    }

    /// The service of that name in that cluster, ACTIVE only (a DRAINING or INACTIVE one is
    /// being deleted). No cluster, no service.
    async fn find(ctx: &Ctx, s: &Input, who: &Identity) -> Result<Found, AwsError> {
        let found = match describe_service(ctx, &s.cluster, &s.name).await {
            Ok(found) => found,
            // ClusterNotFoundException: no cluster, no service.
            Err(e) => return absent(e),
        };
        let Some(svc) = found.filter(|x| x.service_name() == Some(s.name.as_str()) && x.status() == Some("ACTIVE"))
        else {
            return Ok(Found::Nothing);
        };
        let arn = required(svc.service_arn(), "DescribeServices", "a service ARN")?;
        Ok(who.claim(created(&arn, &s.name, &s.cluster), pairs(svc.tags())))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let cluster = out_str(out, "cluster", "DescribeServices")?;
        poll(ctx, "DescribeServices", "the service to reach a steady state", || async {
            let Some(svc) = describe_service(ctx, cluster, id).await? else { return Ok(None) };
            if let Some(status @ ("DRAINING" | "INACTIVE")) = svc.status() {
                return Err(failed("DescribeServices", format!("service {id} is {status}")));
            }
            let deployments = svc.deployments();
            if let Some(d) = deployments.iter().find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed)) {
                let reason = d.rollout_state_reason().unwrap_or("the deployment failed");
                return Err(failed("DescribeServices", format!("service {id}: {reason}")));
            }
            // AWS's `services-stable` rule: one deployment, and every desired task running.
            let stable = svc.status() == Some("ACTIVE")
                && deployments.len() == 1
                && svc.running_count() == svc.desired_count();
            Ok(stable.then(|| out.clone()))
        })
        .await
        .map_err(|e| {
            if e.code == "WaitTimeout" {
                e.with_hint("the service's tasks did not all start: see the service's events and stopped tasks' reasons in the ECS console")
            } else {
                e
            }
        })
    }

    /// The service as the plan writes it: `cluster` in the form the plan gave (name or ARN),
    /// `task_definition` as the revision's ARN (what AWS reports, also for a plan's
    /// `family:revision`). moto keeps no `enableECSManagedTags` (it always reports false), so
    /// on the emulator, and only there, that property is left out.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let cluster = out_str(out, "cluster", "DescribeServices")?;
        let Some(svc) = describe_service(ctx, cluster, id).await?.filter(|s| s.status() != Some("INACTIVE")) else {
            return Ok(None);
        };
        let name = required(svc.service_name(), "DescribeServices", "a service name")?;
        let mut props = Map::new();
        let cluster_arn = svc.cluster_arn();
        let cluster_value =
            if cluster.starts_with("arn:") { cluster_arn } else { cluster_arn.and_then(|a| a.rsplit('/').next()) };
        put(&mut props, "cluster", cluster_value);
        props.insert("service_name".into(), json!(name));
        put(&mut props, "task_definition", svc.task_definition());
        props.insert("desired_count".into(), json!(svc.desired_count()));
        put(&mut props, "launch_type", svc.launch_type().map(|l| l.as_str()));
        put(&mut props, "platform_version", svc.platform_version());
        if let Some(vpc) = svc.network_configuration().and_then(|n| n.awsvpc_configuration()) {
            let mut v = Map::new();
            v.insert("subnets".into(), json!(vpc.subnets()));
            if !vpc.security_groups().is_empty() {
                v.insert("security_groups".into(), json!(vpc.security_groups()));
            }
            put(&mut v, "assign_public_ip", vpc.assign_public_ip().map(|a| a.as_str()));
            props.insert("network_configuration".into(), json!({"awsvpc_configuration": v}));
        }
        put(&mut props, "propagate_tags", svc.propagate_tags().map(|t| t.as_str()));
        if !ctx.emulator {
            props.insert("enable_ecs_managed_tags".into(), json!(svc.enable_ecs_managed_tags()));
        }
        props.insert("tags".into(), tag_table(svc.tags()));
        let arn = required(svc.service_arn(), "DescribeServices", "a service ARN")?;
        Ok(Some(Live { props, outputs: created(&arn, &name, cluster).outputs }))
    }

    /// One UpdateService with what changed (a new task definition starts a deployment), the
    /// tags by TagResource/UntagResource; then waits for the steady state as `ready` does.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, v: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        let settings = ["task_definition", "desired_count", "platform_version", "network_configuration"];
        if settings.iter().chain(&["propagate_tags", "enable_ecs_managed_tags"]).any(|p| has(p)) {
            let mut req = ctx.ecs.update_service().cluster(&v.cluster).service(id);
            if has("task_definition") {
                req = req.task_definition(&v.task_definition);
            }
            if has("desired_count") {
                req = req.set_desired_count(v.desired_count);
            }
            if has("platform_version") {
                req = req.set_platform_version(v.platform_version.clone());
            }
            if has("network_configuration") {
                req = req.set_network_configuration(v.network.clone());
            }
            if has("propagate_tags") {
                req = req.set_propagate_tags(v.propagate_tags.clone());
            }
            if has("enable_ecs_managed_tags") {
                req = req.set_enable_ecs_managed_tags(v.managed_tags);
            }
            req.send().await.map_err(|e| sdk_err("UpdateService", e))?;
        }
        if has("tags") {
            super::retag(ctx, id, &v.tags).await?;
        }
        Self::ready(ctx, id, out).await
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        let cluster = out_str(out, "cluster", "DeleteService")?;
        // AWS refuses to delete a service scaled above 0; scale it in and let the tasks stop.
        match ctx.ecs.update_service().cluster(cluster).service(id).desired_count(0).send().await {
            Ok(_) => {}
            // Already DRAINING or INACTIVE: an earlier teardown deleted it.
            Err(e) if e.as_service_error().is_some_and(|se| se.is_service_not_active_exception()) => return Ok(()),
            Err(e) => return Err(sdk_err("UpdateService", e)),
        }
        poll(ctx, "DescribeServices", "the service's tasks to stop", || async {
            let Some(svc) = describe_service(ctx, cluster, id).await? else { return Ok(Some(())) };
            Ok((svc.running_count() == 0 && svc.pending_count() == 0).then_some(()))
        })
        .await?;
        // A task leaves the running count when told to stop, but holds its network interface
        // until it reaches STOPPED: the subnets and security groups cannot be deleted before.
        let service_name = out_str(out, "name", "ListTasks")?;
        poll(ctx, "DescribeTasks", "the service's tasks to release their network interfaces", || async {
            Ok((!has_stopping_tasks(ctx, cluster, service_name).await?).then_some(()))
        })
        .await?;
        ctx.ecs.delete_service().cluster(cluster).service(id).send().await.map_err(|e| sdk_err("DeleteService", e))?;
        Ok(())
    }

    /// A deleted service is DRAINING, then INACTIVE.
    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        let cluster = out_str(out, "cluster", "DescribeServices")?;
        Ok(describe_service(ctx, cluster, id).await?.is_none_or(|s| s.status() == Some("INACTIVE")))
    }
}

fn created(arn: &str, name: &str, cluster: &str) -> Created {
    Created { id: arn.to_string(), outputs: outputs(json!({"id": arn, "arn": arn, "name": name, "cluster": cluster})) }
}

/// True while a task of the service has been told to stop but has not reached STOPPED.
async fn has_stopping_tasks(ctx: &Ctx, cluster: &str, service_name: &str) -> Result<bool, AwsError> {
    let mut next = None;
    loop {
        let r = ctx
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service_name)
            .desired_status(DesiredStatus::Stopped)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| sdk_err("ListTasks", e))?;
        let arns = r.task_arns().to_vec();
        if !arns.is_empty() {
            let d = ctx
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(arns))
                .send()
                .await
                .map_err(|e| sdk_err("DescribeTasks", e))?;
            if d.tasks().iter().any(|t| t.last_status() != Some("STOPPED")) {
                return Ok(true);
            }
        }
        next = r.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(false);
        }
    }
}

/// The items of a list value (a lone value counts as a list of one).
fn items(node: Option<&Node>) -> Vec<&Node> {
    match node {
        Some(Node { kind: NodeKind::List(items), .. }) => items.iter().collect(),
        Some(n) => vec![n],
        None => Vec::new(),
    }
}

/// The route table associations of the subnets the service's tasks run in.
fn subnet_route_associations(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    let subnets =
        res.prop("network_configuration").and_then(|n| n.get("awsvpc_configuration")).and_then(|n| n.get("subnets"));
    let wanted: Vec<String> = items(subnets).into_iter().filter_map(|s| view.canonical(Some(s))).collect();
    view.of_type(crate::aws::ec2::route_table_association::SPEC.name)
        .filter(|a| view.canonical(a.prop("subnet_id")).is_some_and(|s| wanted.contains(&s)))
        .map(|a| a.name.clone())
        .collect()
}

/// The mount targets of every EFS file system the service's task definition mounts.
fn efs_mount_targets(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    let file_systems: Vec<String> = view
        .referenced_by(res, "task_definition")
        .into_iter()
        .filter(|td| td.type_name == super::task_definition::SPEC.name)
        .flat_map(|td| items(td.prop("volumes")))
        .filter_map(|v| view.canonical(v.get("efs_volume_configuration").and_then(|e| e.get("file_system_id"))))
        .collect();
    view.of_type(crate::aws::efs::mount_target::SPEC.name)
        .filter(|m| view.canonical(m.prop("file_system_id")).is_some_and(|f| file_systems.contains(&f)))
        .map(|m| m.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    // svc -> td -> fs; svc's subnets: a (rta_a), b (rta_b); c has rta_c; mt_a, mt_b mount fs; mt_x another fs.
    const PLAN: &str = r#"
[plan]
name = "t"

[resources.svc]
type = "ecs:Service"
cluster = "c"
service_name = "s"
task_definition = "${td.arn}"
network_configuration = { awsvpc_configuration = { subnets = ["${a.id}", "${b.id}"] } }

[resources.td]
type = "ecs:TaskDefinition"
family = "f"
container_definitions = [{ name = "x", image = "i" }]
volumes = [{ name = "shared", efs_volume_configuration = { file_system_id = "${fs.id}" } }]

[resources.rta_a]
type = "ec2:RouteTableAssociation"
subnet_id = "${a.id}"

[resources.rta_b]
type = "ec2:RouteTableAssociation"
subnet_id = "${b.id}"

[resources.rta_c]
type = "ec2:RouteTableAssociation"
subnet_id = "${c.id}"

[resources.mt_a]
type = "efs:MountTarget"
file_system_id = "${fs.id}"

[resources.mt_b]
type = "efs:MountTarget"
file_system_id = "${fs.id}"

[resources.mt_x]
type = "efs:MountTarget"
file_system_id = "${other_fs.id}"
"#;

    /// A new task definition revision and a tag: one UpdateService, then the steady state; the
    /// service reads back as the new plan.
    #[tokio::test]
    async fn update_moves_the_service_to_a_new_revision() {
        use super::super::testing::make;
        use serde_json::json;
        let moto = crate::emulator::Moto::start().expect("moto");
        let ctx = crate::aws::testing::ctx(&moto).await;
        make(&ctx, "ecs:Cluster", &json!({"cluster_name": "c"})).await;
        let td = |image: &str| json!({"family": "web", "container_definitions": [{"name": "app", "image": image, "memory": 512}]});
        let one = make(&ctx, "ecs:TaskDefinition", &td("nginx:1")).await;
        let two = make(&ctx, "ecs:TaskDefinition", &td("nginx:2")).await;
        let mut v = json!({"cluster": "c", "service_name": "web", "task_definition": one.id, "desired_count": 2, "launch_type": "EC2", "propagate_tags": "NONE",
            "tags": crate::aws::testing::tags("s-dev", "svc")});
        let svc = make(&ctx, "ecs:Service", &v).await;
        let ready = crate::aws::wait_ready(&ctx, "ecs:Service", &svc.id, &svc.outputs).await.expect("ready");
        v["task_definition"] = json!(two.id);
        v["tags"]["Team"] = json!("web");
        let keys = ["task_definition".to_string(), "tags".to_string()];
        let out =
            crate::aws::update(&ctx, "ecs:Service", &svc.id, &ready, &mut crate::aws::testing::props(v.clone()), &keys)
                .await
                .expect("update");
        crate::aws::testing::assert_reads_back(&ctx, "ecs:Service", &v, &svc.id, &out).await;
    }

    #[test]
    fn a_service_waits_for_its_subnets_routes_and_its_file_systems_mount_targets() {
        let plan = Plan::parse(std::path::Path::new("t.toml"), PLAN).expect("plan parses");
        let view = PlanView::new(&plan);
        let svc = plan.resource("svc").expect("svc");
        let mut routes = subnet_route_associations(&view, svc);
        routes.sort();
        assert_eq!(routes, ["rta_a", "rta_b"]);
        let mut mounts = efs_mount_targets(&view, svc);
        mounts.sort();
        assert_eq!(mounts, ["mt_a", "mt_b"]);
    }
}

#[cfg(test)]
mod adopt_tests {
    use super::super::testing::{adopt, assert_round_trip, assert_same, make, remove, task_definition};
    use crate::aws::testing::{assert_not_ours, ctx, find, tags};
    use crate::emulator::Moto;
    use serde_json::json;

    #[tokio::test]
    async fn service() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:Service";
        // `find` reads the whole input, as `create` does: the fixture has the required task definition.
        let nowhere = json!({"cluster": "nowhere", "service_name": "web", "task_definition": "web-dev:1",
            "tags": tags("s-dev", "svc")});
        assert!(adopt(&ctx, ty, &nowhere).await.is_none(), "no cluster, no service");
        make(&ctx, "ecs:Cluster", &json!({"cluster_name": "c1"})).await;
        let td = make(&ctx, "ecs:TaskDefinition", &task_definition("web-dev", "nginx:1", "s-dev")).await;
        let service = |name: &str, stack: &str| {
            json!({
                "cluster": "c1",
                "service_name": name,
                "task_definition": td.id,
                "desired_count": 1,
                "tags": tags(stack, "svc"),
            })
        };
        assert!(adopt(&ctx, ty, &service("web", "s-dev")).await.is_none());
        let created = make(&ctx, ty, &service("web", "s-dev")).await;
        assert_same(&created, &adopt(&ctx, ty, &service("web", "s-dev")).await.expect("adopted"));

        make(&ctx, ty, &service("other", "s-prod")).await;
        assert_not_ours(&find(&ctx, ty, &service("other", "s-dev")).await, "stack `s-prod`");
        let mut manual = service("manual", "s-dev");
        manual.as_object_mut().map(|m| m.remove("tags"));
        make(&ctx, ty, &manual).await;
        assert_not_ours(&find(&ctx, ty, &service("manual", "s-dev")).await, "has no `ironplan:stack` tag");

        remove(&ctx, ty, &created).await;
        assert!(adopt(&ctx, ty, &service("web", "s-dev")).await.is_none());
    }

    /// A Fargate service in a subnet reads back as planned, its cluster as the plan named it
    /// (by name here, by ARN for the second).
    #[tokio::test]
    async fn service_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:Service";
        let vpc = ctx.ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.expect("vpc");
        let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id");
        let subnet = ctx.ec2.create_subnet().vpc_id(vpc_id).cidr_block("10.0.1.0/24").send().await.expect("subnet");
        let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id");
        let sg = ctx.ec2.create_security_group().vpc_id(vpc_id).group_name("web").description("web").send().await;
        let sg_id = sg.expect("security group").group_id().expect("group id").to_string();
        let cluster = make(&ctx, "ecs:Cluster", &json!({"cluster_name": "c1"})).await;
        let td = make(&ctx, "ecs:TaskDefinition", &task_definition("web-dev", "nginx:1", "s-dev")).await;
        // moto runs as many tasks as `MOTO_ECS_SERVICE_RUNNING` (2): a service of 2 is stable.
        let planned = |name: &str, cluster: &str| {
            json!({
                "cluster": cluster,
                "service_name": name,
                "task_definition": td.id,
                "desired_count": 2,
                "launch_type": "FARGATE",
                "platform_version": "1.4.0",
                "network_configuration": {"awsvpc_configuration": {
                    "subnets": [subnet_id], "security_groups": [sg_id], "assign_public_ip": "DISABLED",
                }},
                "propagate_tags": "SERVICE",
                "tags": tags("s-dev", "svc"),
            })
        };
        for (name, cluster) in [("web", "c1"), ("api", cluster.outputs["arn"].as_str().expect("arn"))] {
            assert_round_trip(&ctx, ty, &planned(name, cluster), &[]).await;
        }
    }
}

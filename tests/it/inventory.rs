//! What the emulator holds, service by service, as `kind → IDs` of live resources: the
//! tests compare it before and after a run to prove nothing was left behind or duplicated.
//! Things on their way out count as gone: KMS keys pending deletion, deleted NAT gateways,
//! INACTIVE ECS clusters, services and task definitions, and (moto gaps) replication groups
//! stuck `deleting` and cache subnet groups moto cannot delete.

use std::collections::{BTreeMap, BTreeSet};

use ironplan::aws::Ctx;

/// Type name → IDs of what exists.
pub type Inventory = BTreeMap<&'static str, BTreeSet<String>>;

/// The types the inventory lists (by SDK calls of its own, not through ironplan's adapters).
pub const LISTED: &[&str] = &[
    "apigateway:Account",
    "apigateway:Deployment",
    "apigateway:Method",
    "apigateway:Resource",
    "apigateway:RestApi",
    "apigateway:Stage",
    "applicationautoscaling:ScalableTarget",
    "applicationautoscaling:ScalingPolicy",
    "cloudwatch:MetricAlarm",
    "ec2:Eip",
    "ec2:FlowLog",
    "ec2:InternetGateway",
    "ec2:NatGateway",
    "ec2:RouteTable",
    "ec2:RouteTableAssociation",
    "ec2:SecurityGroup",
    "ec2:Subnet",
    "ec2:Vpc",
    "ecs:Cluster",
    "ecs:Service",
    "ecs:TaskDefinition",
    "efs:FileSystem",
    "efs:MountTarget",
    "elasticache:ReplicationGroup",
    "iam:Role",
    "iam:RolePolicy",
    "kinesis:Stream",
    "kms:Alias",
    "kms:Key",
    "logs:LogGroup",
    "rds:DbCluster",
    "rds:DbInstance",
    "rds:DbSubnetGroup",
    "s3:Bucket",
];

/// The types it does not list, and why a leftover of one would still be seen.
pub const NOT_LISTED: &[(&str, &str)] = &[
    ("apigateway:Integration", "it lives and dies with its method, which is listed"),
    ("apigateway:IntegrationResponse", "it lives and dies with its method, which is listed"),
    ("apigateway:MethodResponse", "it lives and dies with its method, which is listed"),
    (
        "elasticache:SubnetGroup",
        "moto 5.2.5 cannot delete one (DeleteCacheSubnetGroup answers 500): every deleted one stays",
    ),
];

pub async fn inventory(ctx: &Ctx) -> Inventory {
    let mut inv = Inventory::new();
    let mut add = |kind: &'static str, id: Option<&str>| {
        debug_assert!(LISTED.contains(&kind), "{kind} is not in LISTED");
        if let Some(id) = id {
            inv.entry(kind).or_default().insert(id.to_string());
        }
    };
    let ec2 = &ctx.ec2;
    for v in ec2.describe_vpcs().send().await.expect("vpcs").vpcs() {
        add("ec2:Vpc", v.vpc_id());
    }
    for s in ec2.describe_subnets().send().await.expect("subnets").subnets() {
        add("ec2:Subnet", s.subnet_id());
    }
    for g in ec2.describe_internet_gateways().send().await.expect("igws").internet_gateways() {
        add("ec2:InternetGateway", g.internet_gateway_id());
    }
    for a in ec2.describe_addresses().send().await.expect("eips").addresses() {
        add("ec2:Eip", a.allocation_id());
    }
    for n in ec2.describe_nat_gateways().send().await.expect("nats").nat_gateways() {
        if !matches!(n.state().map(|s| s.as_str()), Some("deleted" | "deleting")) {
            add("ec2:NatGateway", n.nat_gateway_id());
        }
    }
    for r in ec2.describe_route_tables().send().await.expect("route tables").route_tables() {
        add("ec2:RouteTable", r.route_table_id());
        for a in r.associations() {
            if !a.main().unwrap_or(false) {
                add("ec2:RouteTableAssociation", a.route_table_association_id());
            }
        }
    }
    for g in ec2.describe_security_groups().send().await.expect("sgs").security_groups() {
        add("ec2:SecurityGroup", g.group_id());
    }
    for f in ec2.describe_flow_logs().send().await.expect("flow logs").flow_logs() {
        add("ec2:FlowLog", f.flow_log_id());
    }
    for k in ctx.kms.list_keys().send().await.expect("keys").keys() {
        let Some(id) = k.key_id() else { continue };
        let d = ctx.kms.describe_key().key_id(id).send().await.expect("describe key");
        if d.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()) != Some("PendingDeletion") {
            add("kms:Key", Some(id));
        }
    }
    for a in ctx.kms.list_aliases().send().await.expect("aliases").aliases() {
        add("kms:Alias", a.alias_name().filter(|n| !n.starts_with("alias/aws/")));
    }
    let roles = ctx.iam.list_roles().send().await.expect("roles");
    for r in roles.roles() {
        add("iam:Role", Some(r.role_name()));
        let inline = ctx.iam.list_role_policies().role_name(r.role_name()).send().await.expect("role policies");
        for p in inline.policy_names() {
            add("iam:RolePolicy", Some(&format!("{}:{p}", r.role_name())));
        }
    }
    for g in ctx.logs.describe_log_groups().send().await.expect("log groups").log_groups() {
        add("logs:LogGroup", g.log_group_name());
    }
    for s in ctx.kinesis.list_streams().send().await.expect("streams").stream_names() {
        add("kinesis:Stream", Some(s));
    }
    for c in ctx.rds.describe_db_clusters().send().await.expect("clusters").db_clusters() {
        add("rds:DbCluster", c.db_cluster_identifier());
    }
    for i in ctx.rds.describe_db_instances().send().await.expect("instances").db_instances() {
        add("rds:DbInstance", i.db_instance_identifier());
    }
    for g in ctx.rds.describe_db_subnet_groups().send().await.expect("db subnet groups").db_subnet_groups() {
        add("rds:DbSubnetGroup", g.db_subnet_group_name());
    }
    for g in ctx.elasticache.describe_replication_groups().send().await.expect("rgs").replication_groups() {
        if g.status() != Some("deleting") {
            add("elasticache:ReplicationGroup", g.replication_group_id());
        }
    }
    // Cache subnet groups are not listed: moto does not implement DeleteCacheSubnetGroup (it
    // answers 500), so every deleted one stays in the emulator (ARCHITECTURE.md).
    for f in ctx.efs.describe_file_systems().send().await.expect("file systems").file_systems() {
        add("efs:FileSystem", Some(f.file_system_id()));
        let mts =
            ctx.efs.describe_mount_targets().file_system_id(f.file_system_id()).send().await.expect("mount targets");
        for m in mts.mount_targets() {
            add("efs:MountTarget", Some(m.mount_target_id()));
        }
    }
    let clusters = ctx.ecs.list_clusters().send().await.expect("ecs clusters");
    if !clusters.cluster_arns().is_empty() {
        let d = ctx
            .ecs
            .describe_clusters()
            .set_clusters(Some(clusters.cluster_arns().to_vec()))
            .send()
            .await
            .expect("clusters");
        for c in d.clusters().iter().filter(|c| c.status() == Some("ACTIVE")) {
            add("ecs:Cluster", c.cluster_name());
            let Some(arn) = c.cluster_arn() else { continue };
            let svcs = ctx.ecs.list_services().cluster(arn).send().await.expect("services");
            if !svcs.service_arns().is_empty() {
                let d = ctx
                    .ecs
                    .describe_services()
                    .cluster(arn)
                    .set_services(Some(svcs.service_arns().to_vec()))
                    .send()
                    .await
                    .expect("describe services");
                for s in d.services().iter().filter(|s| s.status() == Some("ACTIVE")) {
                    add("ecs:Service", s.service_name());
                }
            }
        }
    }
    let tds = ctx
        .ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("task definitions");
    for t in tds.task_definition_arns() {
        add("ecs:TaskDefinition", Some(t));
    }
    let ns = aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs;
    let targets = ctx.applicationautoscaling.describe_scalable_targets().service_namespace(ns.clone()).send().await;
    for t in targets.expect("scalable targets").scalable_targets() {
        add("applicationautoscaling:ScalableTarget", Some(t.resource_id()));
    }
    let policies = ctx.applicationautoscaling.describe_scaling_policies().service_namespace(ns).send().await;
    for p in policies.expect("scaling policies").scaling_policies() {
        add("applicationautoscaling:ScalingPolicy", Some(p.policy_name()));
    }
    for api in ctx.apigateway.get_rest_apis().send().await.expect("apis").items() {
        add("apigateway:RestApi", api.id());
        let Some(id) = api.id() else { continue };
        let deployments = ctx.apigateway.get_deployments().rest_api_id(id).send().await.expect("deployments");
        for d in deployments.items() {
            add("apigateway:Deployment", d.id());
        }
        let stages = ctx.apigateway.get_stages().rest_api_id(id).send().await.expect("stages");
        for s in stages.item() {
            add("apigateway:Stage", s.stage_name());
        }
        let resources = ctx.apigateway.get_resources().rest_api_id(id).send().await.expect("resources");
        for r in resources.items() {
            add("apigateway:Resource", r.id());
            for m in r.resource_methods().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                add("apigateway:Method", Some(&format!("{}:{m}", r.id().unwrap_or_default())));
            }
        }
    }
    let account = ctx.apigateway.get_account().send().await.expect("account");
    add("apigateway:Account", account.cloudwatch_role_arn().filter(|a| !a.is_empty()));
    for a in ctx.cloudwatch.describe_alarms().send().await.expect("alarms").metric_alarms() {
        add("cloudwatch:MetricAlarm", a.alarm_name());
    }
    for b in ctx.s3.list_buckets().send().await.expect("buckets").buckets() {
        add("s3:Bucket", b.name());
    }
    inv
}

/// What `after` holds that `before` did not, as `kind id` lines.
pub fn added(before: &Inventory, after: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, ids) in after {
        for id in ids {
            if !before.get(kind).is_some_and(|b| b.contains(id)) {
                out.push(format!("{kind} {id}"));
            }
        }
    }
    out
}

/// How many of each kind `after` added to `before`.
pub fn added_counts(before: &Inventory, after: &Inventory) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for (kind, ids) in after {
        let n = ids.iter().filter(|id| !before.get(kind).is_some_and(|b| b.contains(*id))).count();
        if n > 0 {
            counts.insert(*kind, n);
        }
    }
    counts
}

/// Every registered type has a lister here (or a reason it needs none), so that the leftover
/// checks of the fault tests see every kind of resource a run can leave behind.
#[test]
fn every_registered_type_has_an_inventory_lister() {
    for a in ironplan::aws::registry::all() {
        let name = a.spec().name;
        assert!(
            LISTED.contains(&name) || NOT_LISTED.iter().any(|(t, _)| *t == name),
            "{name} has no inventory lister in tests/it/inventory.rs (add one, or say in NOT_LISTED why it needs none)"
        );
    }
    for name in LISTED.iter().chain(NOT_LISTED.iter().map(|(t, _)| t)) {
        assert!(ironplan::aws::registry::get(name).is_some(), "{name} is listed but not registered");
    }
}

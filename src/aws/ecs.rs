//! Adapter for `ecs:*` types: clusters, task definitions and services.
//!
//! A service is ready when it is stable as AWS's `services-stable` waiter defines it: ACTIVE,
//! one deployment, and as many running tasks as desired. Its teardown scales it to zero and
//! waits until its tasks have stopped (each Fargate task holds a network interface in its
//! subnet until then) before deleting it.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, ClusterSetting, ClusterSettingName, Compatibility,
    ContainerDefinition, CpuArchitecture, DeploymentRolloutState, DesiredStatus, EfsAuthorizationConfig,
    EfsAuthorizationConfigIam, EfsTransitEncryption, EfsVolumeConfiguration, KeyValuePair, LaunchType,
    LogConfiguration, LogDriver, MountPoint, NetworkConfiguration, NetworkMode, OsFamily, PortMapping, PropagateTags,
    RuntimePlatform, Secret, ServiceField, SortOrder, Tag, TaskDefinitionField, TaskDefinitionStatus,
    TransportProtocol, Volume,
};
use serde_json::json;

use super::{AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, absent, out_str, poll, sdk_err};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "ecs:Cluster" => create_cluster(ctx, p).await,
        "ecs:TaskDefinition" => create_task_definition(ctx, p).await,
        "ecs:Service" => create_service(ctx, p).await,
        _ => Err(AwsError::input("Create", format!("unknown type `{ty}`"))),
    }
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        "ecs:Cluster" => cluster_ready(ctx, id, out).await,
        "ecs:TaskDefinition" => task_definition_ready(ctx, id, out).await,
        "ecs:Service" => service_ready(ctx, id, out).await,
        _ => Err(AwsError::input("Wait", format!("unknown type `{ty}`"))),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "ecs:Cluster" => {
            ctx.ecs.delete_cluster().cluster(id).send().await.map_err(|e| sdk_err("DeleteCluster", e))?;
            Ok(())
        }
        "ecs:TaskDefinition" => {
            ctx.ecs
                .deregister_task_definition()
                .task_definition(id)
                .send()
                .await
                .map_err(|e| task_definition_err("DeregisterTaskDefinition", e))?;
            Ok(())
        }
        "ecs:Service" => delete_service(ctx, id, out).await,
        _ => Err(AwsError::input("Delete", format!("unknown type `{ty}`"))),
    }
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "ecs:Cluster" => {
            poll(ctx, "DescribeClusters", "the cluster to become INACTIVE", || async {
                let status = cluster_status(ctx, id).await?;
                Ok(matches!(status.as_deref(), None | Some("INACTIVE")).then_some(()))
            })
            .await
        }
        "ecs:TaskDefinition" => {
            poll(ctx, "DescribeTaskDefinition", "the task definition to become INACTIVE", || async {
                let r = ctx.ecs.describe_task_definition().task_definition(id).send().await;
                let r = r.map_err(|e| task_definition_err("DescribeTaskDefinition", e))?;
                let status = r.task_definition().and_then(|t| t.status());
                Ok((!matches!(status, Some(TaskDefinitionStatus::Active))).then_some(()))
            })
            .await
        }
        "ecs:Service" => {
            let cluster = out_str(out, "cluster", "DescribeServices")?;
            poll(ctx, "DescribeServices", "the service to become INACTIVE", || async {
                let svc = describe_service(ctx, cluster, id).await?;
                Ok(svc.is_none_or(|s| s.status() == Some("INACTIVE")).then_some(()))
            })
            .await
        }
        _ => Err(AwsError::input("Wait", format!("unknown type `{ty}`"))),
    }
}

// ---- ecs:Cluster ----

async fn create_cluster(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
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
    let tags = ecs_tags(p.tags()?);
    p.finish()?;

    let r = ctx
        .ecs
        .create_cluster()
        .cluster_name(&name)
        .set_settings(non_empty(settings))
        .set_tags(non_empty(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateCluster", e))?;
    let arn = r.cluster().and_then(|c| c.cluster_arn()).unwrap_or_default();
    Ok(Created { id: name.clone(), outputs: outputs(json!({"id": name, "name": name, "arn": arn})) })
}

async fn cluster_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    poll(ctx, "DescribeClusters", "the cluster to become ACTIVE", || async {
        match cluster_status(ctx, id).await?.as_deref() {
            Some("ACTIVE") => Ok(Some(out.clone())),
            Some("FAILED") => Err(failed("DescribeClusters", format!("cluster {id} failed to provision"))),
            // PROVISIONING while capacity providers are set up; missing just after creation.
            _ => Ok(None),
        }
    })
    .await
}

/// The cluster's status, or `None` if ECS does not know it.
async fn cluster_status(ctx: &Ctx, cluster: &str) -> Result<Option<String>, AwsError> {
    let r = ctx.ecs.describe_clusters().clusters(cluster).send().await.map_err(|e| sdk_err("DescribeClusters", e))?;
    Ok(r.clusters().first().map(|c| c.status().unwrap_or_default().to_string()))
}

// ---- ecs:TaskDefinition ----

async fn create_task_definition(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    p.for_op("RegisterTaskDefinition");
    let family = p.str("family")?;
    let compatibilities: Vec<Compatibility> =
        p.str_list("requires_compatibilities")?.iter().map(|c| Compatibility::from(c.as_str())).collect();
    let network_mode = p.opt_str("network_mode")?.map(|m| NetworkMode::from(m.as_str()));
    let cpu = p.opt_str("cpu")?;
    let memory = p.opt_str("memory")?;
    let execution_role_arn = p.opt_str("execution_role_arn")?;
    let task_role_arn = p.opt_str("task_role_arn")?;
    let runtime_platform = match p.opt_struct("runtime_platform")? {
        None => None,
        Some(mut rp) => {
            let platform = RuntimePlatform::builder()
                .set_cpu_architecture(rp.opt_str("cpu_architecture")?.map(|a| CpuArchitecture::from(a.as_str())))
                .set_operating_system_family(rp.opt_str("operating_system_family")?.map(|f| OsFamily::from(f.as_str())))
                .build();
            rp.finish()?;
            Some(platform)
        }
    };
    let mut containers = Vec::new();
    for mut c in p.structs("container_definitions")? {
        containers.push(container_definition(&mut c)?);
    }
    let mut volumes = Vec::new();
    for mut v in p.structs("volumes")? {
        volumes.push(volume(&mut v)?);
    }
    let tags = ecs_tags(p.tags()?);
    p.finish()?;

    let r = ctx
        .ecs
        .register_task_definition()
        .family(&family)
        .set_requires_compatibilities(non_empty(compatibilities))
        .set_network_mode(network_mode)
        .set_cpu(cpu)
        .set_memory(memory)
        .set_execution_role_arn(execution_role_arn)
        .set_task_role_arn(task_role_arn)
        .set_runtime_platform(runtime_platform)
        .set_container_definitions(Some(containers))
        .set_volumes(non_empty(volumes))
        .set_tags(non_empty(tags))
        .send()
        .await
        .map_err(|e| sdk_err("RegisterTaskDefinition", e))?;
    let td = r.task_definition();
    let arn = td.and_then(|t| t.task_definition_arn()).unwrap_or_default().to_string();
    if arn.is_empty() {
        return Err(failed("RegisterTaskDefinition", "AWS returned no task definition ARN"));
    }
    let revision = td.map(|t| t.revision()).unwrap_or_default();
    Ok(Created {
        id: arn.clone(),
        outputs: outputs(json!({"id": arn, "arn": arn, "family": family, "revision": revision.to_string()})),
    })
}

fn container_definition(c: &mut Props) -> Result<ContainerDefinition, AwsError> {
    let mut b = ContainerDefinition::builder()
        .name(c.str("name")?)
        .image(c.str("image")?)
        .set_cpu(c.opt_i32("cpu")?)
        .set_memory(c.opt_i32("memory")?)
        .set_essential(c.opt_bool("essential")?);
    for mut pm in c.structs("port_mappings")? {
        b = b.port_mappings(
            PortMapping::builder()
                .container_port(pm.i32("container_port")?)
                .set_protocol(pm.opt_str("protocol")?.map(|x| TransportProtocol::from(x.as_str())))
                .build(),
        );
        pm.finish()?;
    }
    for mut e in c.structs("environment")? {
        b = b.environment(KeyValuePair::builder().name(e.str("name")?).value(e.str("value")?).build());
        e.finish()?;
    }
    for mut s in c.structs("secrets")? {
        let secret = Secret::builder()
            .name(s.str("name")?)
            .value_from(s.str("value_from")?)
            .build()
            .map_err(|e| AwsError::input("RegisterTaskDefinition", e.to_string()))?;
        s.finish()?;
        b = b.secrets(secret);
    }
    for mut m in c.structs("mount_points")? {
        b = b.mount_points(
            MountPoint::builder()
                .source_volume(m.str("source_volume")?)
                .container_path(m.str("container_path")?)
                .set_read_only(m.opt_bool("read_only")?)
                .build(),
        );
        m.finish()?;
    }
    if let Some(mut l) = c.opt_struct("log_configuration")? {
        let mut lb = LogConfiguration::builder().log_driver(LogDriver::from(l.str("log_driver")?.as_str()));
        for (k, v) in l.str_map("options")? {
            lb = lb.options(k, v);
        }
        l.finish()?;
        b = b.log_configuration(lb.build().map_err(|e| AwsError::input("RegisterTaskDefinition", e.to_string()))?);
    }
    c.finish()?;
    Ok(b.build())
}

fn volume(v: &mut Props) -> Result<Volume, AwsError> {
    let mut b = Volume::builder().name(v.str("name")?);
    if let Some(mut efs) = v.opt_struct("efs_volume_configuration")? {
        let authorization = match efs.opt_struct("authorization_config")? {
            None => None,
            Some(mut a) => {
                let config = EfsAuthorizationConfig::builder()
                    .set_access_point_id(a.opt_str("access_point_id")?)
                    .set_iam(a.opt_str("iam")?.map(|x| EfsAuthorizationConfigIam::from(x.as_str())))
                    .build();
                a.finish()?;
                Some(config)
            }
        };
        let config = EfsVolumeConfiguration::builder()
            .file_system_id(efs.str("file_system_id")?)
            .set_root_directory(efs.opt_str("root_directory")?)
            .set_transit_encryption(efs.opt_str("transit_encryption")?.map(|x| EfsTransitEncryption::from(x.as_str())))
            .set_authorization_config(authorization)
            .build()
            .map_err(|e| AwsError::input("RegisterTaskDefinition", e.to_string()))?;
        efs.finish()?;
        b = b.efs_volume_configuration(config);
    }
    v.finish()?;
    Ok(b.build())
}

async fn task_definition_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    // A registered revision is usable at once; one read confirms it exists and is ACTIVE.
    let r = ctx
        .ecs
        .describe_task_definition()
        .task_definition(id)
        .send()
        .await
        .map_err(|e| task_definition_err("DescribeTaskDefinition", e))?;
    match r.task_definition().and_then(|t| t.status()) {
        Some(TaskDefinitionStatus::Active) => Ok(out.clone()),
        other => Err(failed("DescribeTaskDefinition", format!("task definition {id} is {other:?}, not ACTIVE"))),
    }
}

/// ECS reports an unknown task definition as a generic `ClientException`; make it a NotFound.
fn task_definition_err<E>(
    operation: &'static str,
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut e = sdk_err(operation, err);
    let m = e.message.to_ascii_lowercase();
    if e.code == "ClientException"
        && (m.contains("unable to describe task definition")
            || m.contains("does not exist")
            || m.contains("revision is missing"))
    {
        e.kind = ErrorKind::NotFound;
    }
    e
}

// ---- ecs:Service ----

async fn create_service(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
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
    let tags = ecs_tags(p.tags()?);
    p.finish()?;

    let r = ctx
        .ecs
        .create_service()
        .cluster(&cluster)
        .service_name(&name)
        .task_definition(task_definition)
        .set_desired_count(desired_count)
        .set_launch_type(launch_type)
        .set_platform_version(platform_version)
        .set_network_configuration(network)
        .set_propagate_tags(propagate_tags)
        .set_enable_ecs_managed_tags(managed_tags)
        .set_tags(non_empty(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateService", e))?;
    let arn = r.service().and_then(|s| s.service_arn()).unwrap_or_default().to_string();
    if arn.is_empty() {
        return Err(failed("CreateService", "AWS returned no service ARN"));
    }
    Ok(Created { id: arn.clone(), outputs: outputs(json!({"id": arn, "arn": arn, "name": name, "cluster": cluster})) })
}

/// The service, or `None` if ECS reports it missing.
async fn describe_service(
    ctx: &Ctx,
    cluster: &str,
    service: &str,
) -> Result<Option<aws_sdk_ecs::types::Service>, AwsError> {
    let r = ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| sdk_err("DescribeServices", e))?;
    Ok(r.services().first().cloned())
}

async fn service_ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
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

async fn delete_service(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
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

// ---- helpers ----

fn ecs_tags(tags: Vec<(String, String)>) -> Vec<Tag> {
    tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// `None` for an empty list: AWS rejects some empty lists where it accepts an absent one.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn outputs(v: serde_json::Value) -> Outputs {
    match v {
        serde_json::Value::Object(m) => m,
        _ => Outputs::new(),
    }
}

fn failed(operation: &'static str, message: impl Into<String>) -> AwsError {
    AwsError { operation, code: "ResourceFailed".into(), message: message.into(), kind: ErrorKind::Fatal, hint: None }
}

/// Finds what an interrupted create made: the cluster by name, the service by cluster and
/// name (ACTIVE only: a DRAINING or INACTIVE one is being deleted), and the task definition by
/// family: the newest ACTIVE revision whose containers (names and images) and identity tags
/// match the props. Each create carries the identity tags: a cluster or service of that name
/// without them is not ours, and a revision without them is not the one the create registered.
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "ecs:Cluster" => adopt_cluster(ctx, p, who).await,
        "ecs:TaskDefinition" => adopt_task_definition(ctx, p, who).await,
        "ecs:Service" => adopt_service(ctx, p, who).await,
        _ => Err(AwsError::input("Adopt", format!("unknown type `{ty}`"))),
    }
}

async fn adopt_cluster(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeClusters";
    p.for_op(OP);
    let name = p.str("cluster_name")?;
    let _tags = p.tags()?;
    let r = match ctx.ecs.describe_clusters().clusters(&name).include(ClusterField::Tags).send().await {
        Ok(r) => r,
        Err(e) => return absent(sdk_err(OP, e)),
    };
    // PROVISIONING is what a create leaves while capacity providers are set up (`wait_ready`
    // waits it out); DEPROVISIONING, INACTIVE and FAILED do not count.
    let Some(c) = r
        .clusters()
        .iter()
        .find(|c| c.cluster_name() == Some(name.as_str()) && matches!(c.status(), Some("ACTIVE" | "PROVISIONING")))
    else {
        return Ok(Found::Nothing);
    };
    let arn = c.cluster_arn().unwrap_or_default();
    let created = Created { id: name.clone(), outputs: outputs(json!({"id": name, "name": name, "arn": arn})) };
    Ok(who.claim(created, pairs(c.tags())))
}

/// How many of a family's newest ACTIVE revisions adoption examines: a match further back is
/// not what an interrupted create just registered, and registering anew is harmless.
const ADOPT_REVISIONS: usize = 25;

async fn adopt_task_definition(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "ListTaskDefinitions";
    p.for_op(OP);
    let family = p.str("family")?;
    let mut wanted = Vec::new();
    for mut c in p.structs("container_definitions")? {
        wanted.push(container_definition(&mut c)?);
    }
    let wanted = container_keys(&wanted);
    let _tags = p.tags()?;

    // `familyPrefix` names the whole family; the ARN check below keeps it exact anyway.
    let mut revisions = Vec::new();
    let mut next = None;
    loop {
        let r = ctx
            .ecs
            .list_task_definitions()
            .family_prefix(&family)
            .status(TaskDefinitionStatus::Active)
            .sort(SortOrder::Desc)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        for arn in r.task_definition_arns() {
            if let Some((f, rev)) = arn.rsplit('/').next().and_then(|s| s.rsplit_once(':'))
                && f == family
                && let Ok(rev) = rev.parse::<i32>()
            {
                revisions.push((rev, arn.clone()));
            }
        }
        next = r.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    // Newest first (AWS sorts already; moto ignores `sort`).
    revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, arn) in revisions.into_iter().take(ADOPT_REVISIONS) {
        let r = match ctx
            .ecs
            .describe_task_definition()
            .task_definition(&arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                // Deregistered since it was listed.
                let e = task_definition_err("DescribeTaskDefinition", e);
                if e.is_not_found() {
                    continue;
                }
                return Err(e);
            }
        };
        let Some(td) = r.task_definition() else { continue };
        if td.status() != Some(&TaskDefinitionStatus::Active)
            || container_keys(td.container_definitions()) != wanted
            || who.judge(pairs(r.tags())).is_err()
        {
            continue;
        }
        let revision = td.revision();
        let created = Created {
            id: arn.clone(),
            outputs: outputs(json!({"id": arn, "arn": arn, "family": family, "revision": revision.to_string()})),
        };
        return Ok(who.claim(created, pairs(r.tags())));
    }
    Ok(Found::Nothing)
}

/// The containers' (name, image) pairs, sorted: what makes a revision the one the props describe.
fn container_keys(containers: &[ContainerDefinition]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = containers
        .iter()
        .map(|c| (c.name().unwrap_or_default().to_string(), c.image().unwrap_or_default().to_string()))
        .collect();
    keys.sort();
    keys
}

async fn adopt_service(ctx: &Ctx, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    const OP: &str = "DescribeServices";
    p.for_op(OP);
    let cluster = p.str("cluster")?;
    let name = p.str("service_name")?;
    let _tags = p.tags()?;
    let r = match ctx.ecs.describe_services().cluster(&cluster).services(&name).include(ServiceField::Tags).send().await
    {
        Ok(r) => r,
        // ClusterNotFoundException: no cluster, no service.
        Err(e) => return absent(sdk_err(OP, e)),
    };
    let Some(s) = r.services().iter().find(|s| s.service_name() == Some(name.as_str()) && s.status() == Some("ACTIVE"))
    else {
        return Ok(Found::Nothing);
    };
    let arn = s.service_arn().unwrap_or_default().to_string();
    if arn.is_empty() {
        return Err(failed(OP, "AWS returned no service ARN"));
    }
    let created =
        Created { id: arn.clone(), outputs: outputs(json!({"id": arn, "arn": arn, "name": name, "cluster": cluster})) };
    Ok(who.claim(created, pairs(s.tags())))
}

/// ECS tags as pairs, for the ownership guard.
fn pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
}

#[cfg(test)]
mod adopt_tests {
    use crate::aws::testing::{assert_not_ours, ctx, find, props, tags};
    use serde_json::{Value, json};

    use crate::aws::{Created, Ctx, create, delete, wait_deleted};
    use crate::emulator::Moto;

    fn assert_same(created: &Created, adopted: &Created) {
        assert_eq!(adopted.id, created.id);
        assert_eq!(adopted.outputs, created.outputs);
    }

    async fn adopt(ctx: &Ctx, ty: &str, v: &Value) -> Option<Created> {
        find(ctx, ty, v).await.ours()
    }

    async fn make(ctx: &Ctx, ty: &str, v: &Value) -> Created {
        create(ctx, ty, &mut props(v.clone())).await.unwrap_or_else(|e| panic!("create {ty}: {e}"))
    }

    async fn remove(ctx: &Ctx, ty: &str, c: &Created) {
        delete(ctx, ty, &c.id, &c.outputs).await.expect("delete");
        wait_deleted(ctx, ty, &c.id, &c.outputs).await.expect("wait_deleted");
    }

    fn task_definition(family: &str, image: &str, stack: &str) -> Value {
        json!({
            "family": family,
            "requires_compatibilities": ["FARGATE"],
            "network_mode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "container_definitions": [
                {"name": "app", "image": image, "essential": true, "port_mappings": [{"container_port": 80}]},
                {"name": "sidecar", "image": "busybox:1"},
            ],
            "tags": tags(stack, "task"),
        })
    }

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

    #[tokio::test]
    async fn task_definition_latest_matching_revision() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:TaskDefinition";
        let v1 = task_definition("web-dev", "nginx:1", "s-dev");
        let v2 = task_definition("web-dev", "nginx:2", "s-dev");
        assert!(adopt(&ctx, ty, &v1).await.is_none());
        let first = make(&ctx, ty, &v1).await;
        let again = make(&ctx, ty, &v1).await;
        let other_image = make(&ctx, ty, &v2).await;
        // Same containers, but another stack's, or without tags: never ours.
        make(&ctx, ty, &task_definition("web-dev", "nginx:1", "s-prod")).await;
        let mut untagged = task_definition("web-dev", "nginx:1", "s-dev");
        untagged.as_object_mut().map(|m| m.remove("tags"));
        make(&ctx, ty, &untagged).await;
        // Another family whose name starts with ours.
        make(&ctx, ty, &task_definition("web-dev-worker", "nginx:1", "s-dev")).await;

        // The newest ACTIVE revision with these containers and tags: revision 2, not 1, 3, 4 or 5.
        let adopted = adopt(&ctx, ty, &v1).await.expect("adopted");
        assert_same(&again, &adopted);
        assert_eq!(adopted.outputs["revision"], "2");
        assert_same(&other_image, &adopt(&ctx, ty, &v2).await.expect("adopted v2"));

        // An INACTIVE revision does not count: the older matching one is found, then none.
        remove(&ctx, ty, &again).await;
        assert_same(&first, &adopt(&ctx, ty, &v1).await.expect("adopted rev 1"));
        remove(&ctx, ty, &first).await;
        assert!(adopt(&ctx, ty, &v1).await.is_none());
    }

    #[tokio::test]
    async fn service() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:Service";
        let nowhere = json!({"cluster": "nowhere", "service_name": "web", "tags": tags("s-dev", "svc")});
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
}

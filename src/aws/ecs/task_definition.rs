//! `ecs:TaskDefinition`: one revision of a task definition family, by its ARN.
//!
//! A revision cannot change: every property forces a new one (only its tags change in place).
//! Adoption finds the newest ACTIVE revision of the family whose containers (names and
//! images) and identity tags match the plan's.

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, EfsAuthorizationConfig, EfsAuthorizationConfigIam,
    EfsTransitEncryption, EfsVolumeConfiguration, KeyValuePair, LogConfiguration, LogDriver, MountPoint, NetworkMode,
    OsFamily, PortMapping, RuntimePlatform, Secret, SortOrder, TaskDefinitionField, TaskDefinitionStatus,
    TransportProtocol, Volume,
};
use serde_json::{Map, Value, json};

use super::{
    CONTAINER_NAME, FAMILY, NOT_FOUND, VOLUME_NAME, ecs_tags, failed, non_empty, outputs, pairs, put_list, tag_table,
    task_definition_err,
};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, put, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const PORT_MAPPING: &[Prop] = &[
    Prop::req("container_port", Kind::Int, "the port the container listens on").range(1, 65535),
    Prop::opt("protocol", Kind::Str, "`tcp` (default) or `udp`"),
];

/// A container's environment variable. Its value is sensitive: teams put tokens there even
/// though `secrets` is the right place; it is never stored or printed, only its digest.
const ENV_VAR: &[Prop] = &[
    Prop::req("name", Kind::Str, "the variable's name"),
    Prop::req("value", Kind::Str, "its value (sensitive: never stored or printed)").sensitive(),
];

const SECRET: &[Prop] = &[
    Prop::req("name", Kind::Str, "the environment variable the secret is exposed as"),
    Prop::req("value_from", Kind::Str, "the ARN of the Secrets Manager secret or SSM parameter"),
];

const MOUNT_POINT: &[Prop] = &[
    Prop::req("source_volume", Kind::Str, "the name of a volume of the task definition"),
    Prop::req("container_path", Kind::Str, "where the volume is mounted in the container"),
    Prop::opt("read_only", Kind::Bool, "mount read-only (default false)"),
];

const LOG_CONFIGURATION: &[Prop] = &[
    Prop::req("log_driver", Kind::Str, "the log driver, such as `awslogs`"),
    Prop::opt("options", Kind::StrMap, "the driver's options (`awslogs-group`, `awslogs-region`...)"),
];

const CONTAINER_DEFINITION: &[Prop] = &[
    Prop::req("name", Kind::Str, "the container's name").name_rule(&CONTAINER_NAME),
    Prop::req("image", Kind::Str, "the image to run"),
    Prop::opt("cpu", Kind::Int, "CPU units reserved for the container").at_least(0),
    // "The Docker 20.10.0 or later daemon reserves a minimum of 6 MiB of memory for a container."
    Prop::opt("memory", Kind::Int, "hard memory limit in MiB").at_least(6),
    Prop::opt("essential", Kind::Bool, "the task stops when this container stops (default true)"),
    Prop::opt("port_mappings", Kind::List(&Kind::Struct(PORT_MAPPING)), "ports the container exposes"),
    Prop::opt("environment", Kind::List(&Kind::Struct(ENV_VAR)), "plain environment variables (values are sensitive)"),
    Prop::opt(
        "secrets",
        Kind::List(&Kind::Struct(SECRET)),
        "environment variables read from Secrets Manager or SSM at start",
    ),
    Prop::opt("mount_points", Kind::List(&Kind::Struct(MOUNT_POINT)), "volumes mounted in the container"),
    Prop::opt("log_configuration", Kind::Struct(LOG_CONFIGURATION), "where the container's logs go"),
];

const EFS_AUTHORIZATION_CONFIG: &[Prop] = &[
    Prop::opt("access_point_id", Kind::Str, "an EFS access point to mount through"),
    Prop::opt("iam", Kind::Str, "`ENABLED` to mount with the task role's IAM identity"),
];

const EFS_VOLUME_CONFIGURATION: &[Prop] = &[
    Prop::req("file_system_id", Kind::Str, "the EFS file system to mount"),
    Prop::opt("root_directory", Kind::Str, "the directory of the file system to mount (default `/`)"),
    Prop::opt("transit_encryption", Kind::Str, "`ENABLED` to encrypt NFS traffic with TLS"),
    Prop::opt("authorization_config", Kind::Struct(EFS_AUTHORIZATION_CONFIG), "access point and IAM authorization"),
];

const VOLUME: &[Prop] = &[
    Prop::req("name", Kind::Str, "the volume's name, referred to by mount points").name_rule(&VOLUME_NAME),
    Prop::opt("efs_volume_configuration", Kind::Struct(EFS_VOLUME_CONFIGURATION), "an EFS file system volume"),
];

const RUNTIME_PLATFORM: &[Prop] = &[
    Prop::opt("cpu_architecture", Kind::Str, "`X86_64` or `ARM64`"),
    Prop::opt("operating_system_family", Kind::Str, "such as `LINUX`"),
];

pub static SPEC: TypeSpec = TypeSpec {
    name: "ecs:TaskDefinition",
    aliases: &["AWS::ECS::TaskDefinition", "aws_ecs_task_definition", "aws:ecs/taskDefinition:TaskDefinition"],
    summary: "A revision of an ECS task definition",
    calls: "RegisterTaskDefinition (every property)",
    props: &[
        Prop::req("family", Kind::Str, "the task definition family; each registration adds a revision")
            .name_rule(&FAMILY),
        Prop::opt("requires_compatibilities", Kind::List(&Kind::Str), "launch types, such as `FARGATE`"),
        Prop::opt("network_mode", Kind::Str, "`awsvpc` (required by Fargate), `bridge`, `host` or `none`"),
        Prop::opt("cpu", Kind::Str, "task CPU units, as a string (`\"512\"`)"),
        Prop::opt("memory", Kind::Str, "task memory in MiB, as a string (`\"1024\"`)"),
        Prop::opt("execution_role_arn", Kind::Str, "the role ECS uses to pull images, read secrets and write logs"),
        Prop::opt("task_role_arn", Kind::Str, "the role the containers' code runs as"),
        Prop::opt("runtime_platform", Kind::Struct(RUNTIME_PLATFORM), "CPU architecture and OS family"),
        Prop::req(
            "container_definitions",
            Kind::List(&Kind::Struct(CONTAINER_DEFINITION)),
            "the containers of the task",
        ),
        Prop::opt("volumes", Kind::List(&Kind::Struct(VOLUME)), "volumes the containers can mount"),
        Prop::opt("tags", Kind::Tags, "tags of the task definition"),
    ],
    attrs: &[
        attr("id", "the task definition revision's ARN"),
        attr("arn", "the task definition revision's ARN"),
        attr("family", "the family"),
        attr("revision", "the revision number"),
    ],
    taggable: true,
    holds_data: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct TaskDefinition;

/// What a registration reads.
pub struct Input {
    family: String,
    compatibilities: Vec<Compatibility>,
    network_mode: Option<NetworkMode>,
    cpu: Option<String>,
    memory: Option<String>,
    execution_role_arn: Option<String>,
    task_role_arn: Option<String>,
    runtime_platform: Option<RuntimePlatform>,
    containers: Vec<ContainerDefinition>,
    volumes: Vec<Volume>,
    tags: Vec<(String, String)>,
}

/// How many of a family's newest ACTIVE revisions adoption examines: a match further back is
/// not what an interrupted create just registered, and registering anew is harmless.
const ADOPT_REVISIONS: usize = 25;

#[async_trait]
impl Lifecycle for TaskDefinition {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["tags"];
    const COEXISTS: bool = true;

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        p.for_op("RegisterTaskDefinition");
        let family = p.str("family")?;
        let compatibilities =
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
                    .set_operating_system_family(
                        rp.opt_str("operating_system_family")?.map(|f| OsFamily::from(f.as_str())),
                    )
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
        Ok(Input {
            family,
            compatibilities,
            network_mode,
            cpu,
            memory,
            execution_role_arn,
            task_role_arn,
            runtime_platform,
            containers,
            volumes,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, t: &Input) -> Result<Created, AwsError> {
        const OP: &str = "RegisterTaskDefinition";
        let r = ctx
            .ecs
            .register_task_definition()
            .family(&t.family)
            .set_requires_compatibilities(non_empty(t.compatibilities.clone()))
            .set_network_mode(t.network_mode.clone())
            .set_cpu(t.cpu.clone())
            .set_memory(t.memory.clone())
            .set_execution_role_arn(t.execution_role_arn.clone())
            .set_task_role_arn(t.task_role_arn.clone())
            .set_runtime_platform(t.runtime_platform.clone())
            .set_container_definitions(Some(t.containers.clone()))
            .set_volumes(non_empty(t.volumes.clone()))
            .set_tags(ecs_tags(&t.tags))
            .send()
            .await
            .map_err(|e| sdk_err(OP, e))?;
        let td = r.task_definition();
        let arn = required(td.and_then(|t| t.task_definition_arn()), OP, "a task definition ARN")?;
        Ok(created(&arn, &t.family, td.map(|t| t.revision()).unwrap_or_default()))
    }

    async fn find(ctx: &Ctx, t: &Input, who: &Identity) -> Result<Found, AwsError> {
        const OP: &str = "ListTaskDefinitions";
        let wanted = container_keys(&t.containers);
        // `familyPrefix` names the whole family; the ARN check below keeps it exact anyway.
        let mut revisions = Vec::new();
        let mut next = None;
        loop {
            let r = ctx
                .ecs
                .list_task_definitions()
                .family_prefix(&t.family)
                .status(TaskDefinitionStatus::Active)
                .sort(SortOrder::Desc)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| sdk_err(OP, e))?;
            for arn in r.task_definition_arns() {
                if let Some((f, rev)) = arn.rsplit('/').next().and_then(|s| s.rsplit_once(':'))
                    && f == t.family
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
            // `None`: deregistered since it was listed.
            let Some((td, tags)) = describe(ctx, &arn).await? else { continue };
            if container_keys(td.container_definitions()) != wanted || who.judge(pairs(&tags)).is_err() {
                continue;
            }
            return Ok(who.claim(created(&arn, &t.family, td.revision()), pairs(&tags)));
        }
        Ok(Found::Nothing)
    }

    /// A registered revision is usable at once; one read confirms it exists and is ACTIVE.
    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
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

    /// The revision as the plan writes it. Environment values are returned as AWS has them
    /// (the engine masks sensitive values). What AWS fills in where the plan said nothing
    /// (`essential`, a port's `protocol`, an EFS `root_directory`) is reported as AWS has it.
    async fn read(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some((td, tags)) = describe(ctx, id).await? else { return Ok(None) };
        let mut props = Map::new();
        let family = required(td.family(), "DescribeTaskDefinition", "a family")?;
        props.insert("family".into(), json!(family));
        put_list(
            &mut props,
            "requires_compatibilities",
            td.requires_compatibilities().iter().map(|c| json!(c.as_str())).collect(),
        );
        put(&mut props, "network_mode", td.network_mode().map(|m| m.as_str()));
        put(&mut props, "cpu", td.cpu());
        put(&mut props, "memory", td.memory());
        put(&mut props, "execution_role_arn", td.execution_role_arn());
        put(&mut props, "task_role_arn", td.task_role_arn());
        if let Some(rp) = td.runtime_platform() {
            let mut platform = Map::new();
            put(&mut platform, "cpu_architecture", rp.cpu_architecture().map(|a| a.as_str()));
            put(&mut platform, "operating_system_family", rp.operating_system_family().map(|f| f.as_str()));
            props.insert("runtime_platform".into(), Value::Object(platform));
        }
        props.insert(
            "container_definitions".into(),
            Value::Array(td.container_definitions().iter().map(container_value).collect()),
        );
        put_list(&mut props, "volumes", td.volumes().iter().map(volume_value).collect());
        props.insert("tags".into(), tag_table(&tags));
        Ok(Some(Live { props, outputs: created(id, &family, td.revision()).outputs }))
    }

    /// Only the tags of a revision change in place; anything else is a new revision.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, t: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        super::retag(ctx, id, &t.tags).await?;
        Ok(out.clone())
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        ctx.ecs
            .deregister_task_definition()
            .task_definition(id)
            .send()
            .await
            .map_err(|e| task_definition_err("DeregisterTaskDefinition", e))?;
        Ok(())
    }

    /// A deregistered revision stays described, INACTIVE.
    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(describe(ctx, id).await?.is_none())
    }
}

fn created(arn: &str, family: &str, revision: i32) -> Created {
    Created {
        id: arn.to_string(),
        outputs: outputs(json!({"id": arn, "arn": arn, "family": family, "revision": revision.to_string()})),
    }
}

/// The ACTIVE revision `arn` and its tags, or `None` if it is unknown or no longer ACTIVE.
async fn describe(
    ctx: &Ctx,
    arn: &str,
) -> Result<Option<(aws_sdk_ecs::types::TaskDefinition, Vec<aws_sdk_ecs::types::Tag>)>, AwsError> {
    let r = ctx.ecs.describe_task_definition().task_definition(arn).include(TaskDefinitionField::Tags).send().await;
    let r = match r.map_err(|e| task_definition_err("DescribeTaskDefinition", e)) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(r.task_definition()
        .filter(|td| td.status() == Some(&TaskDefinitionStatus::Active))
        .map(|td| (td.clone(), r.tags().to_vec())))
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

/// A container as the plan writes it.
fn container_value(c: &ContainerDefinition) -> Value {
    let mut m = Map::new();
    put(&mut m, "name", c.name());
    put(&mut m, "image", c.image());
    // 0 CPU units: no reservation, what AWS reports when none was asked for.
    put(&mut m, "cpu", (c.cpu() != 0).then_some(c.cpu()));
    put(&mut m, "memory", c.memory());
    put(&mut m, "essential", c.essential());
    let ports = c.port_mappings().iter().map(|p| {
        let mut pm = Map::new();
        put(&mut pm, "container_port", p.container_port());
        put(&mut pm, "protocol", p.protocol().map(|x| x.as_str()));
        Value::Object(pm)
    });
    put_list(&mut m, "port_mappings", ports.collect());
    let env = c.environment().iter().map(|e| json!({"name": e.name(), "value": e.value()}));
    put_list(&mut m, "environment", env.collect());
    let secrets = c.secrets().iter().map(|s| json!({"name": s.name(), "value_from": s.value_from()}));
    put_list(&mut m, "secrets", secrets.collect());
    let mounts = c.mount_points().iter().map(|p| {
        let mut mp = Map::new();
        put(&mut mp, "source_volume", p.source_volume());
        put(&mut mp, "container_path", p.container_path());
        put(&mut mp, "read_only", p.read_only());
        Value::Object(mp)
    });
    put_list(&mut m, "mount_points", mounts.collect());
    if let Some(l) = c.log_configuration() {
        let mut lc = Map::new();
        lc.insert("log_driver".into(), json!(l.log_driver().as_str()));
        if let Some(options) = l.options().filter(|o| !o.is_empty()) {
            lc.insert("options".into(), json!(options));
        }
        m.insert("log_configuration".into(), Value::Object(lc));
    }
    Value::Object(m)
}

/// A volume as the plan writes it.
fn volume_value(v: &Volume) -> Value {
    let mut m = Map::new();
    put(&mut m, "name", v.name());
    if let Some(efs) = v.efs_volume_configuration() {
        let mut e = Map::new();
        e.insert("file_system_id".into(), json!(efs.file_system_id()));
        put(&mut e, "root_directory", efs.root_directory());
        put(&mut e, "transit_encryption", efs.transit_encryption().map(|x| x.as_str()));
        if let Some(a) = efs.authorization_config() {
            let mut auth = Map::new();
            put(&mut auth, "access_point_id", a.access_point_id());
            put(&mut auth, "iam", a.iam().map(|x| x.as_str()));
            e.insert("authorization_config".into(), Value::Object(auth));
        }
        m.insert("efs_volume_configuration".into(), Value::Object(e));
    }
    Value::Object(m)
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

#[cfg(test)]
mod adopt_tests {
    use super::super::testing::{adopt, assert_round_trip, assert_same, make, remove, task_definition};
    use crate::aws::testing::{ctx, tags};
    use crate::emulator::Moto;
    use serde_json::json;

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

    /// Every property reads back as planned, nested ones included; the environment's values
    /// (sensitive: `TOKEN` below) as AWS has them: the engine masks them, not `read`.
    #[tokio::test]
    async fn task_definition_reads_back() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let ty = "ecs:TaskDefinition";
        let planned = json!({
            "family": "web-dev",
            "requires_compatibilities": ["FARGATE"],
            "network_mode": "awsvpc",
            "cpu": "512",
            "memory": "1024",
            "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
            "task_role_arn": "arn:aws:iam::123456789012:role/task",
            "runtime_platform": {"cpu_architecture": "ARM64", "operating_system_family": "LINUX"},
            "container_definitions": [
                {
                    "name": "app",
                    "image": "nginx:1",
                    "cpu": 256,
                    "memory": 512,
                    "essential": true,
                    "port_mappings": [{"container_port": 80, "protocol": "tcp"}],
                    "environment": [{"name": "TOKEN", "value": "s3cr3t"}],
                    "secrets": [{"name": "DB", "value_from": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}],
                    "mount_points": [{"source_volume": "shared", "container_path": "/data", "read_only": true}],
                    "log_configuration": {"log_driver": "awslogs", "options": {"awslogs-group": "/web", "awslogs-region": "us-east-1"}},
                },
                {"name": "sidecar", "image": "busybox:1", "essential": false},
            ],
            "volumes": [{
                "name": "shared",
                "efs_volume_configuration": {
                    "file_system_id": "fs-12345678",
                    "root_directory": "/srv",
                    "transit_encryption": "ENABLED",
                    "authorization_config": {"access_point_id": "fsap-12345678", "iam": "ENABLED"},
                },
            }],
            "tags": tags("s-dev", "task"),
        });
        assert_round_trip(&ctx, ty, &planned, &[]).await;
    }
}

//! `ecs:*` types: the cluster, the Fargate task definition and the service that runs it.
//!
//! Auto scaling of a service is not ECS's: see `applicationautoscaling`.

use super::{Implied, Kind, NameRule, PlanView, Prop, TypeSpec, attr};
use crate::plan::{Node, NodeKind, Resource};

pub const TYPES: &[&TypeSpec] = &[&CLUSTER, &TASK_DEFINITION, &SERVICE];

/// ECS names: "up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens".
const fn ecs_name(what: &'static str, source: &'static str) -> NameRule {
    NameRule::new(what, source, 1, 255, "a-zA-Z0-9_-")
}

pub const CLUSTER_NAME: NameRule = ecs_name("ECS cluster name", "CreateCluster clusterName");
pub const SERVICE_NAME: NameRule = ecs_name("ECS service name", "CreateService serviceName");
pub const FAMILY: NameRule = ecs_name("ECS task definition family", "RegisterTaskDefinition family");
pub const CONTAINER_NAME: NameRule = ecs_name("ECS container name", "ContainerDefinition name");
pub const VOLUME_NAME: NameRule = ecs_name("ECS volume name", "Volume name");

const NAME_VALUE: &[Prop] =
    &[Prop::req("name", Kind::Str, "the setting's name"), Prop::req("value", Kind::Str, "its value")];

/// A container's environment variable. Its value is sensitive: teams put tokens there even
/// though `secrets` is the right place; it is never stored or printed, only its digest.
const ENV_VAR: &[Prop] = &[
    Prop::req("name", Kind::Str, "the variable's name"),
    Prop::req("value", Kind::Str, "its value (sensitive: never stored or printed)").sensitive(),
];

pub const CLUSTER: TypeSpec = TypeSpec {
    name: "ecs:Cluster",
    aliases: &["AWS::ECS::Cluster", "aws_ecs_cluster", "aws:ecs/cluster:Cluster"],
    summary: "An ECS cluster",
    calls: "CreateCluster (cluster_name, settings, tags)",
    props: &[
        Prop::req("cluster_name", Kind::Str, "the cluster's name").name_rule(&CLUSTER_NAME),
        Prop::opt(
            "settings",
            Kind::List(&Kind::Struct(NAME_VALUE)),
            "cluster settings, such as `{ name = \"containerInsights\", value = \"enabled\" }`",
        ),
        Prop::opt("tags", Kind::Tags, "tags of the cluster"),
    ],
    attrs: &[attr("id", "the cluster's name"), attr("name", "the cluster's name"), attr("arn", "the cluster's ARN")],
    taggable: true,
    create_secs: 3,
    delete_secs: 3,
    implied: &[],
};

const PORT_MAPPING: &[Prop] = &[
    Prop::req("container_port", Kind::Int, "the port the container listens on").range(1, 65535),
    Prop::opt("protocol", Kind::Str, "`tcp` (default) or `udp`"),
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

pub const TASK_DEFINITION: TypeSpec = TypeSpec {
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
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

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

pub const SERVICE: TypeSpec = TypeSpec {
    name: "ecs:Service",
    aliases: &["AWS::ECS::Service", "aws_ecs_service", "aws:ecs/service:Service"],
    summary: "An ECS service that keeps a number of tasks running",
    calls: "CreateService (every property); teardown: UpdateService (desired_count 0), DeleteService",
    props: &[
        Prop::req("cluster", Kind::Str, "the cluster's name or ARN"),
        Prop::req("service_name", Kind::Str, "the service's name, unique in the cluster").name_rule(&SERVICE_NAME),
        Prop::req("task_definition", Kind::Str, "the task definition ARN (or `family:revision`) to run"),
        Prop::opt("desired_count", Kind::Int, "how many tasks to keep running").at_least(0),
        Prop::opt("launch_type", Kind::Str, "`FARGATE`, `EC2` or `EXTERNAL`"),
        Prop::opt("platform_version", Kind::Str, "the Fargate platform version (default `LATEST`)"),
        Prop::opt(
            "network_configuration",
            Kind::Struct(NETWORK_CONFIGURATION),
            "the tasks' network (required for the `awsvpc` network mode)",
        ),
        Prop::opt("propagate_tags", Kind::Str, "copy tags to tasks from `SERVICE` or `TASK_DEFINITION`, or `NONE`"),
        Prop::opt("enable_ecs_managed_tags", Kind::Bool, "let ECS tag tasks with the cluster and service names"),
        Prop::opt("tags", Kind::Tags, "tags of the service"),
    ],
    attrs: &[attr("id", "the service's ARN"), attr("name", "the service's name"), attr("arn", "the service's ARN")],
    taggable: true,
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
    view.of_type("ec2:RouteTableAssociation")
        .filter(|a| view.canonical(a.prop("subnet_id")).is_some_and(|s| wanted.contains(&s)))
        .map(|a| a.name.clone())
        .collect()
}

/// The mount targets of every EFS file system the service's task definition mounts.
fn efs_mount_targets(view: &PlanView<'_>, res: &Resource) -> Vec<String> {
    let file_systems: Vec<String> = view
        .referenced_by(res, "task_definition")
        .into_iter()
        .filter(|td| td.type_name == TASK_DEFINITION.name)
        .flat_map(|td| items(td.prop("volumes")))
        .filter_map(|v| view.canonical(v.get("efs_volume_configuration").and_then(|e| e.get("file_system_id"))))
        .collect();
    view.of_type("efs:MountTarget")
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

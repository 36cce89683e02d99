//! The pipeline, end to end, against moto: deploy all 56, check each through the SDK, deploy
//! again (nothing created), tear down (nothing left).

use serde_json::Value;

use crate::common::{Env, REGION};

const STACK: &str = "healthcare-pipeline-it";
const PLAN: &str = "plans/healthcare-pipeline.toml";

fn id<'a>(state: &'a Value, name: &str) -> &'a str {
    state["resources"][name]["id"].as_str().unwrap_or_else(|| panic!("no id for {name} in state"))
}

fn out<'a>(state: &'a Value, name: &str, attr: &str) -> &'a str {
    state["resources"][name]["outputs"][attr].as_str().unwrap_or_else(|| panic!("no {name}.{attr} in state"))
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_checks_redeploys_and_tears_down_the_whole_pipeline() {
    let env = Env::start();
    let args = ["deploy", PLAN, "--var", "environment_suffix=it", "--output", "json"];

    // Deploy: every resource reaches `ready`, in an order that respects the graph.
    let run = env.ironplan(&args);
    run.assert_ok("deploy");
    let events = run.events();
    let ready: Vec<&str> =
        events.iter().filter(|e| e["event"] == "ready").filter_map(|e| e["resource"].as_str()).collect();
    assert_eq!(ready.len(), 56, "ready events: {ready:?}\n{}", run.stderr);
    let pos = |ev: &str, name: &str| {
        events
            .iter()
            .position(|e| e["event"] == ev && e["resource"] == name)
            .unwrap_or_else(|| panic!("no {ev} event for {name}"))
    };
    // The seed's failure 3: the integration response is put only after its integration and
    // method response are ready, though the plan has no depends_on for it.
    assert!(pos("started", "get_patients_mock_200") > pos("ready", "get_patients_mock"));
    assert!(pos("started", "get_patients_mock_200") > pos("ready", "get_patients_200"));
    assert!(pos("started", "api_deployment") > pos("ready", "get_patients_mock_200"));
    assert!(pos("started", "nat") > pos("ready", "igw"));
    assert!(pos("started", "prod_stage") > pos("ready", "apigw_account"));
    let summary = events.last().expect("summary");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["created"].as_array().map(Vec::len), Some(56));

    let state = env.state(STACK);
    assert_eq!(state["resources"].as_object().map(|m| m.len()), Some(56));
    let state_text = std::fs::read_to_string(env.state_path(STACK)).expect("state");
    // `manage_master_user_password: true` is fine; a password value is not.
    assert!(!state_text.contains("\"master_user_password\""), "a password field is in the state");
    assert!(!state_text.contains("\"password\""), "a password field is in the state");
    let outputs = summary["outputs"].clone();
    for key in
        ["vpc_id", "aurora_endpoint", "aurora_secret_arn", "redis_primary_endpoint", "stream_arn", "api_invoke_url"]
    {
        let v = outputs[key].as_str().unwrap_or_default();
        assert!(!v.is_empty() && !v.starts_with("(unknown"), "output {key} = {v:?}");
    }

    let ctx = env.ctx().await;
    verify_security(&ctx, &state).await;
    verify_roles(&ctx, &state).await;
    verify_network(&ctx, &state).await;
    verify_compute_and_api(&ctx, &state).await;
    verify_read_back(&ctx, &state).await;
    // Nothing changed outside ironplan: no drift, and a refreshed plan has nothing to do.
    let drift = env.ironplan(&["drift", PLAN, "--var", "environment_suffix=it"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("56 resources read · 56 in sync"), "{}", drift.stdout);
    let refreshed = env.ironplan(&["plan", PLAN, "--var", "environment_suffix=it", "--refresh", "--detailed-exitcode"]);
    assert_eq!(refreshed.code, 0, "{}{}", refreshed.stdout, refreshed.stderr);

    // Deploy again: nothing is created and the outputs are the same.
    let again = env.ironplan(&args);
    again.assert_ok("second deploy");
    let events = again.events();
    assert_eq!(events.iter().filter(|e| e["event"] == "started").count(), 0, "{}", again.stdout);
    assert_eq!(events.iter().filter(|e| e["event"] == "exists").count(), 56);
    assert_eq!(events.last().map(|e| e["outputs"].clone()), Some(outputs.clone()));

    // `outputs` reads them back from the state.
    let printed = env.ironplan(&["outputs", PLAN, "--var", "environment_suffix=it", "--json"]);
    printed.assert_ok("outputs");
    let printed: Value = serde_json::from_str(&printed.stdout).expect("outputs JSON");
    assert_eq!(printed, outputs);

    // Teardown: everything goes, in reverse order; the state is empty.
    let down = env.ironplan(&["teardown", PLAN, "--var", "environment_suffix=it", "--output", "json"]);
    down.assert_ok("teardown");
    let events = down.events();
    assert_eq!(events.iter().filter(|e| e["event"] == "deleted").count(), 56, "{}", down.stderr);
    let dpos =
        |name: &str| events.iter().position(|e| e["event"] == "deleted" && e["resource"] == name).expect("deleted");
    let spos =
        |name: &str| events.iter().position(|e| e["event"] == "deleting" && e["resource"] == name).expect("deleting");
    assert!(spos("nat_eip") > dpos("nat"), "the EIP is released only after the NAT gateway is gone");
    assert!(spos("aurora") > dpos("aurora_writer"), "the Aurora instance goes before its cluster");
    assert!(spos("data_key") > dpos("data_key_alias"), "the alias goes before the key");
    assert!(spos("private_a") > dpos("processor_service"), "subnets go after the service's tasks");
    let after = env.state(STACK);
    assert_eq!(after["resources"].as_object().map(|m| m.len()), Some(0));
    verify_gone(&ctx, &state).await;
}

/// `read` of every deployed resource (all 37 types) gives back what the plan set: each planned
/// property `read` reports equals the state's (sensitive values compared masked on both sides;
/// AWS's defaults for what the plan left out may be reported too), and every resource reports
/// some of its planned properties. This is what drift detection compares.
async fn verify_read_back(ctx: &ironplan::aws::Ctx, state: &Value) {
    let mut types = std::collections::BTreeSet::new();
    for (name, r) in state["resources"].as_object().expect("resources") {
        let ty = r["type"].as_str().expect("type");
        let id = r["id"].as_str().expect("id");
        let outputs = r["outputs"].as_object().cloned().unwrap_or_default();
        let live = ironplan::aws::read(ctx, ty, id, &outputs)
            .await
            .unwrap_or_else(|e| panic!("read {name} ({ty}): {e}"))
            .unwrap_or_else(|| panic!("read {name} ({ty}): gone"));
        let spec = ironplan::schema::find(ty).expect("a known type");
        let masked = |mut m: serde_json::Map<String, Value>| {
            ironplan::schema::mask_sensitive(spec.props, &mut m, &mut |_, _| Value::from("(masked)"));
            m
        };
        let planned = masked(r["props"].as_object().cloned().unwrap_or_default());
        let got = masked(live.props);
        let common: Vec<&String> = got.keys().filter(|k| planned.contains_key(*k)).collect();
        assert!(!common.is_empty(), "read of {name} ({ty}) reported none of its planned properties: {got:?}");
        for k in common {
            assert!(
                ironplan::engine::covers(&got[k], &planned[k]),
                "{name} ({ty}).{k}: read {}, the plan set {}",
                got[k],
                planned[k]
            );
        }
        types.insert(ty.to_string());
    }
    assert_eq!(types.len(), 37, "types read back: {types:?}");
    // The batched reads of one read run told of every resource (as drift makes them: answers
    // shared across types, tags from one GetResources) answer what `read` of each does.
    let resources = state["resources"].as_object().expect("resources");
    let all: Vec<(&str, &str, serde_json::Map<String, Value>)> = resources
        .values()
        .map(|r| {
            let out = r["outputs"].as_object().cloned().unwrap_or_default();
            (r["type"].as_str().expect("type"), r["id"].as_str().expect("id"), out)
        })
        .collect();
    let told: Vec<(&str, ironplan::aws::Item<'_>)> = all.iter().map(|(t, id, out)| (*t, (*id, out))).collect();
    let run = ctx.for_reads_of(&told);
    for ty in &types {
        let mine: Vec<(&str, serde_json::Map<String, Value>)> = resources
            .values()
            .filter(|r| r["type"] == ty.as_str())
            .map(|r| (r["id"].as_str().expect("id"), r["outputs"].as_object().cloned().unwrap_or_default()))
            .collect();
        let items: Vec<ironplan::aws::Item<'_>> = mine.iter().map(|(id, out)| (*id, out)).collect();
        let many = ironplan::aws::read_many(&run, ty, &items).await;
        assert_eq!(many.len(), items.len(), "{ty}: one answer per resource");
        for ((id, out), got) in items.iter().zip(many) {
            let got = got.unwrap_or_else(|e| panic!("read_many {ty} {id}: {e}"));
            let one = ironplan::aws::read(ctx, ty, id, out).await.unwrap_or_else(|e| panic!("read {ty} {id}: {e}"));
            assert_eq!(got, one, "{ty} {id}: the batched read of a read run and read disagree");
        }
    }
}

/// KMS, logs, Kinesis, RDS, ElastiCache, EFS: the HIPAA properties.
async fn verify_security(ctx: &ironplan::aws::Ctx, state: &Value) {
    let key_arn = out(state, "data_key", "arn");
    let key = ctx.kms.describe_key().key_id(id(state, "data_key")).send().await.expect("DescribeKey");
    let meta = key.key_metadata().expect("key metadata");
    assert_eq!(meta.key_manager().map(|m| m.as_str()), Some("CUSTOMER"));
    let rot = ctx.kms.get_key_rotation_status().key_id(id(state, "data_key")).send().await.expect("rotation");
    assert!(rot.key_rotation_enabled());
    let aliases = ctx.kms.list_aliases().send().await.expect("ListAliases");
    assert!(aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/healthcare-data-it")));

    // Every log group: encrypted with the data key, retention set.
    for lg in ["flow_log_group", "aurora_log_group", "ecs_log_group", "api_access_logs"] {
        let name = out(state, lg, "name");
        let groups =
            ctx.logs.describe_log_groups().log_group_name_prefix(name).send().await.expect("DescribeLogGroups");
        let g = groups.log_groups().iter().find(|g| g.log_group_name() == Some(name)).expect("log group exists");
        assert_eq!(g.kms_key_id(), Some(key_arn), "{lg} is encrypted with the data key");
        assert!(g.retention_in_days().is_some(), "{lg} has a retention");
    }

    let stream =
        ctx.kinesis.describe_stream_summary().stream_name(id(state, "patient_stream")).send().await.expect("stream");
    let d = stream.stream_description_summary().expect("summary");
    assert_eq!(d.encryption_type().map(|e| e.as_str()), Some("KMS"));
    assert_eq!(d.key_id(), Some(key_arn));
    assert!(d.retention_period_hours() >= 24);

    let clusters =
        ctx.rds.describe_db_clusters().db_cluster_identifier(id(state, "aurora")).send().await.expect("cluster");
    let c = &clusters.db_clusters()[0];
    assert_eq!(c.storage_encrypted(), Some(true));
    assert_eq!(c.kms_key_id(), Some(key_arn));
    let secret = c.master_user_secret().expect("RDS manages the master password");
    assert_eq!(secret.kms_key_id(), Some(key_arn));
    assert_eq!(c.enabled_cloudwatch_logs_exports(), ["postgresql".to_string()]);
    assert!(c.backup_retention_period().unwrap_or(0) >= 1);
    let inst = ctx
        .rds
        .describe_db_instances()
        .db_instance_identifier(id(state, "aurora_writer"))
        .send()
        .await
        .expect("instance");
    assert_eq!(inst.db_instances()[0].publicly_accessible(), Some(false));

    let rgs = ctx
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id(state, "redis"))
        .send()
        .await
        .expect("replication group");
    let rg = &rgs.replication_groups()[0];
    assert_eq!(rg.at_rest_encryption_enabled(), Some(true));
    assert_eq!(rg.transit_encryption_enabled(), Some(true));
    assert_eq!(rg.kms_key_id(), Some(key_arn));
    // moto ignores NumCacheClusters (one node); AWS makes the plan's two.
    assert!(!rg.member_clusters().is_empty());
    assert_eq!(state["resources"]["redis"]["props"]["num_cache_clusters"], 2);

    let fss = ctx.efs.describe_file_systems().file_system_id(id(state, "shared_fs")).send().await.expect("file system");
    let fs = &fss.file_systems()[0];
    assert!(fs.encrypted().unwrap_or(false));
    assert_eq!(fs.kms_key_id(), Some(key_arn));
    let mts =
        ctx.efs.describe_mount_targets().file_system_id(id(state, "shared_fs")).send().await.expect("mount targets");
    assert_eq!(mts.mount_targets().len(), 2);
}

/// An IAM policy document as IAM returns it (URL-encoded JSON).
fn document(text: &str) -> Value {
    let json = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// The statements of a policy document, whether `Statement` is one object or a list.
fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}

/// The security review's tightening, as IAM holds it: service trusts are limited to this
/// account, the task role cannot read the DB secret (the execution role injects it), and KMS
/// decryption goes only through the service that needs it.
async fn verify_roles(ctx: &ironplan::aws::Ctx, state: &Value) {
    let account = ctx.sts.get_caller_identity().send().await.expect("GetCallerIdentity");
    let account = account.account().expect("account");
    for role in ["task_role", "task_execution_role", "flow_log_role"] {
        let got = ctx.iam.get_role().role_name(out(state, role, "name")).send().await.expect("GetRole");
        let trust = document(got.role().and_then(|r| r.assume_role_policy_document()).expect("trust policy"));
        for s in statements(&trust) {
            assert_eq!(s["Condition"]["StringEquals"]["aws:SourceAccount"], account, "{role}: {trust}");
        }
    }
    let decrypt_via = |doc: &Value, service: &str| {
        let kms: Vec<Value> =
            statements(doc).into_iter().filter(|s| s["Action"].to_string().contains("kms:")).collect();
        assert!(!kms.is_empty(), "{doc}");
        for s in kms {
            assert_eq!(
                s["Condition"]["StringEquals"]["kms:ViaService"],
                format!("{service}.{REGION}.amazonaws.com"),
                "{doc}"
            );
        }
    };
    let task_role = out(state, "task_role", "name");
    let names = ctx.iam.list_role_policies().role_name(task_role).send().await.expect("ListRolePolicies");
    assert_eq!(names.policy_names(), ["processor-least-privilege"]);
    let p = ctx
        .iam
        .get_role_policy()
        .role_name(task_role)
        .policy_name("processor-least-privilege")
        .send()
        .await
        .expect("GetRolePolicy");
    let doc = document(p.policy_document());
    assert!(!doc.to_string().contains("secretsmanager"), "the task role reads a secret: {doc}");
    decrypt_via(&doc, "kinesis");
    let exec = out(state, "task_execution_role", "name");
    let p =
        ctx.iam.get_role_policy().role_name(exec).policy_name("inject-db-secret").send().await.expect("GetRolePolicy");
    decrypt_via(&document(p.policy_document()), "secretsmanager");
}

/// VPC, subnets, routes, flow log, security groups.
async fn verify_network(ctx: &ironplan::aws::Ctx, state: &Value) {
    let vpc = id(state, "vpc");
    let attr = ctx
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .expect("vpc attribute");
    assert_eq!(attr.enable_dns_hostnames().and_then(|a| a.value()), Some(true));
    let subnets = ctx
        .ec2
        .describe_subnets()
        .filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .expect("subnets");
    assert_eq!(subnets.subnets().len(), 4);
    let private_a =
        subnets.subnets().iter().find(|s| s.subnet_id() == Some(id(state, "private_a"))).expect("private_a");
    assert_eq!(private_a.map_public_ip_on_launch(), Some(false));

    let rts =
        ctx.ec2.describe_route_tables().route_table_ids(id(state, "private_rt")).send().await.expect("route tables");
    let routes = rts.route_tables()[0].routes();
    assert!(routes.iter().any(|r| r.nat_gateway_id() == Some(id(state, "nat"))), "private route goes to the NAT");

    let fl = ctx.ec2.describe_flow_logs().flow_log_ids(id(state, "vpc_flow_log")).send().await.expect("flow logs");
    let fl = &fl.flow_logs()[0];
    assert_eq!(fl.resource_id(), Some(vpc));
    assert_eq!(fl.traffic_type().map(|t| t.as_str()), Some("ALL"));

    let sgs = ctx.ec2.describe_security_groups().group_ids(id(state, "db_sg")).send().await.expect("db_sg");
    let perms = sgs.security_groups()[0].ip_permissions();
    assert_eq!(perms.len(), 1);
    assert_eq!(perms[0].from_port(), Some(5432));
    assert!(perms[0].ip_ranges().is_empty(), "no CIDR may reach the database");
    assert_eq!(perms[0].user_id_group_pairs()[0].group_id(), Some(id(state, "ecs_sg")));
}

/// ECS, auto scaling, API Gateway, alarms.
async fn verify_compute_and_api(ctx: &ironplan::aws::Ctx, state: &Value) {
    let cluster = out(state, "cluster", "name");
    let svcs = ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(out(state, "processor_service", "name"))
        .send()
        .await
        .expect("service");
    let svc = &svcs.services()[0];
    assert_eq!(svc.desired_count(), 2);
    let net = svc.network_configuration().and_then(|n| n.awsvpc_configuration()).expect("awsvpc");
    assert_eq!(net.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));

    let td =
        ctx.ecs.describe_task_definition().task_definition(id(state, "processor_task")).send().await.expect("task def");
    let td = td.task_definition().expect("task definition");
    let secret = &td.container_definitions()[0].secrets()[0];
    assert_eq!(secret.value_from(), out(state, "aurora", "master_user_secret_arn"));
    let efs = td.volumes()[0].efs_volume_configuration().expect("EFS volume");
    assert_eq!(efs.transit_encryption().map(|t| t.as_str()), Some("ENABLED"));
    // Mounted as the task role, so that its elasticfilesystem: permissions are what grants the mount.
    let iam = efs.authorization_config().and_then(|a| a.iam()).map(|i| i.as_str());
    assert_eq!(iam, Some("ENABLED"));

    let targets = ctx
        .applicationautoscaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .expect("scalable targets");
    let t = &targets.scalable_targets()[0];
    assert_eq!((t.min_capacity(), t.max_capacity()), (2, 10));
    assert_eq!(t.resource_id(), format!("service/{cluster}/{}", out(state, "processor_service", "name")));
    let policies = ctx
        .applicationautoscaling
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .expect("policies");
    let cfg = policies.scaling_policies()[0].target_tracking_scaling_policy_configuration().expect("target tracking");
    assert_eq!(cfg.target_value(), 70.0);

    let api = id(state, "api");
    let resource = id(state, "patients");
    let m = ctx
        .apigateway
        .get_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .send()
        .await
        .expect("method");
    assert_eq!(m.authorization_type(), Some("AWS_IAM"));
    let i = ctx.apigateway.get_integration().rest_api_id(api).resource_id(resource).http_method("GET").send().await;
    assert_eq!(i.expect("integration").r#type().map(|t| t.as_str()), Some("MOCK"));
    ctx.apigateway
        .get_integration_response()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect("integration response");
    let deployments = ctx.apigateway.get_deployments().rest_api_id(api).send().await.expect("deployments");
    assert_eq!(deployments.items().len(), 1);
    let stage = ctx.apigateway.get_stage().rest_api_id(api).stage_name("prod").send().await.expect("stage");
    assert!(stage.tracing_enabled());
    let logs = stage.access_log_settings().expect("access logs");
    assert_eq!(logs.destination_arn(), Some(out(state, "api_access_logs", "arn")));
    let account = ctx.apigateway.get_account().send().await.expect("account");
    assert_eq!(account.cloudwatch_role_arn(), Some(out(state, "apigw_logs_role", "arn")));

    let alarms = ctx.cloudwatch.describe_alarms().alarm_names(id(state, "ecs_cpu_high")).send().await.expect("alarms");
    let dims: Vec<&str> = alarms.metric_alarms()[0].dimensions().iter().filter_map(|d| d.name()).collect();
    assert!(dims.contains(&"ClusterName") && dims.contains(&"ServiceName"), "{dims:?}");
    let _ = REGION;
}

/// Nothing of the stack remains, service by service.
async fn verify_gone(ctx: &ironplan::aws::Ctx, state: &Value) {
    let vpcs = ctx.ec2.describe_vpcs().send().await.expect("vpcs");
    assert!(vpcs.vpcs().iter().all(|v| v.vpc_id() != Some(id(state, "vpc"))), "the VPC is gone");
    let nats = ctx.ec2.describe_nat_gateways().send().await.expect("nats");
    assert!(nats.nat_gateways().iter().all(|n| n.state().map(|s| s.as_str()) == Some("deleted")));
    let eips = ctx.ec2.describe_addresses().send().await.expect("eips");
    assert!(eips.addresses().is_empty(), "the EIP is released");
    let key = ctx.kms.describe_key().key_id(id(state, "data_key")).send().await.expect("key");
    assert_eq!(key.key_metadata().and_then(|m| m.key_state()).map(|s| s.as_str()), Some("PendingDeletion"));
    let aliases = ctx.kms.list_aliases().send().await.expect("aliases");
    assert!(aliases.aliases().iter().all(|a| a.alias_name() != Some("alias/healthcare-data-it")));
    let roles = ctx.iam.list_roles().send().await.expect("roles");
    assert!(roles.roles().iter().all(|r| !r.role_name().ends_with("-it")), "no role of the stack remains");
    let groups = ctx.logs.describe_log_groups().send().await.expect("log groups");
    assert!(groups.log_groups().is_empty(), "log groups remain: {:?}", groups.log_groups());
    let streams = ctx.kinesis.list_streams().send().await.expect("streams");
    assert!(streams.stream_names().is_empty());
    let clusters = ctx.rds.describe_db_clusters().send().await.expect("clusters");
    assert!(clusters.db_clusters().is_empty());
    let instances = ctx.rds.describe_db_instances().send().await.expect("instances");
    assert!(instances.db_instances().is_empty());
    let rgs = ctx.elasticache.describe_replication_groups().send().await.expect("rgs");
    // moto leaves a deleted replication group `deleting` for ever; AWS removes it.
    assert!(rgs.replication_groups().iter().all(|g| g.status() == Some("deleting")));
    let fss = ctx.efs.describe_file_systems().send().await.expect("fss");
    assert!(fss.file_systems().is_empty());
    let svcs = ctx.ecs.list_clusters().send().await.expect("ecs clusters");
    let active =
        ctx.ecs.describe_clusters().set_clusters(Some(svcs.cluster_arns().to_vec())).send().await.expect("describe");
    assert!(active.clusters().iter().all(|c| c.status() == Some("INACTIVE")), "ECS clusters remain");
    let targets = ctx
        .applicationautoscaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .expect("targets");
    assert!(targets.scalable_targets().is_empty());
    let apis = ctx.apigateway.get_rest_apis().send().await.expect("apis");
    assert!(apis.items().is_empty());
    let alarms = ctx.cloudwatch.describe_alarms().send().await.expect("alarms");
    assert!(alarms.metric_alarms().is_empty());
}

/// The seed's failure 3 on the real API: AWS (and moto) answer 404 to an integration response
/// put before its integration. ironplan never makes that call in that order (checked above).
#[tokio::test(flavor = "multi_thread")]
async fn an_integration_response_before_its_integration_is_a_404() {
    let env = Env::start();
    let ctx = env.ctx().await;
    let api = ctx.apigateway.create_rest_api().name("seed-failure-3").send().await.expect("api");
    let api_id = api.id().expect("api id");
    let root = api.root_resource_id().expect("root").to_string();
    ctx.apigateway
        .put_method()
        .rest_api_id(api_id)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .send()
        .await
        .expect("method");
    let err = ctx
        .apigateway
        .put_integration_response()
        .rest_api_id(api_id)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect_err("an integration response without an integration must fail");
    let raw = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(404), "{err:?}");
    assert_eq!(aws_sdk_apigateway::error::ProvideErrorMetadata::code(&err), Some("NotFoundException"));
}

/// Day two: `plan` shows a change against the state (no AWS call), `deploy` refuses what it
/// must not do before any call, applies an update in place, replaces a subnet with what is in
/// it, and deletes what left the plan; each checked through the SDK.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_stack_is_updated_replaced_and_pruned_and_data_is_protected() {
    let env = Env::with_proxy();
    let plan = "examples/audited-network.toml";
    env.ironplan(&["deploy", plan]).assert_ok("deploy");
    let state = env.state("audited-network-dev");
    let dir = tempfile::tempdir().expect("temp");
    let text = std::fs::read_to_string(crate::common::root().join(plan)).expect("plan");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8 path").to_string()
    };
    let retention = write("retention.toml", &text.replace("retention_in_days = 2192", "retention_in_days = 365"));
    let cidr = write("cidr.toml", &text.replace("10.1.1.0/24", "10.1.3.0/24"));
    let calls = env.proxy().log().len();

    // The dry run: the change, and an exit code for scripts.
    let same = env.ironplan(&["plan", plan, "--detailed-exitcode"]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert!(
        same.stdout.contains("0 to create, 0 to update in place, 0 to replace, 0 to delete, 15 unchanged"),
        "{}",
        same.stdout
    );
    let diff = env.ironplan(&["plan", &retention, "--detailed-exitcode"]);
    assert_eq!(diff.code, 5, "{}{}", diff.stdout, diff.stderr);
    assert!(diff.stdout.contains("retention_in_days: 2192 → 365"), "{}", diff.stdout);
    let json = env.ironplan(&["plan", &cidr, "--format", "json"]);
    json.assert_ok("plan --format json");
    let doc: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let changes = doc["changes"]["resources"].as_array().expect("changes");
    let public = changes.iter().find(|r| r["name"] == "public").expect("public");
    assert_eq!(public["action"], "replace");
    assert_eq!(doc["changes"]["has_changes"], true);
    assert_eq!(env.proxy().log().len(), calls, "plan made an AWS call");

    // Replacing the KMS key would lose what it encrypts: refused unless named, nothing called.
    let key_spec = write(
        "key.toml",
        &text.replace("enable_key_rotation = true", "enable_key_rotation = true\nkey_spec = \"RSA_2048\""),
    );
    let refused = env.ironplan(&["deploy", &key_spec]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-replace key"), "{}", refused.stderr);
    assert_eq!(env.proxy().log().len(), calls, "the refused change made an AWS call");

    // An update in place: applied, and only that.
    let up = env.ironplan(&["deploy", &retention]);
    up.assert_ok("deploy the new retention");
    assert!(up.stderr.contains("1 updated") && up.stderr.contains("0 created"), "{}", up.stderr);
    let ctx = env.ctx().await;
    let groups = ctx.logs.describe_log_groups().send().await.expect("log groups");
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(365));
    let again = env.ironplan(&["plan", &retention, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "the change is in the state: {}", again.stdout);
    let after = env.state("audited-network-dev");
    assert_eq!(id(&after, "flow_logs"), id(&state, "flow_logs"), "updated, not replaced");

    // A new CIDR for the public subnet replaces it, and the NAT gateway and association in it;
    // the private route table's default route moves to the new NAT gateway, in place.
    let moved = write("cidr2.toml", &text.replace("10.1.1.0/24", "10.1.3.0/24").replace("2192", "365"));
    let re = env.ironplan(&["deploy", &moved]);
    re.assert_ok("deploy the new CIDR");
    assert!(re.stderr.contains("3 replaced") && re.stderr.contains("1 updated"), "{}", re.stderr);
    let new = env.state("audited-network-dev");
    let subnets = ctx.ec2.describe_subnets().subnet_ids(id(&new, "public")).send().await.expect("subnet");
    assert_eq!(subnets.subnets()[0].cidr_block(), Some("10.1.3.0/24"));
    let old = ctx.ec2.describe_subnets().send().await.expect("subnets");
    assert!(old.subnets().iter().all(|x| x.subnet_id() != Some(id(&state, "public"))), "the old subnet is left");
    let nat = ctx.ec2.describe_nat_gateways().nat_gateway_ids(id(&new, "nat")).send().await.expect("nat");
    assert_eq!(nat.nat_gateways()[0].subnet_id(), Some(id(&new, "public")));
    let rt = ctx.ec2.describe_route_tables().route_table_ids(id(&new, "private_rt")).send().await.expect("rt");
    let default = rt.route_tables()[0].routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
    assert_eq!(default.and_then(|r| r.nat_gateway_id()), Some(id(&new, "nat")), "the route follows the new NAT");
    assert_eq!(id(&new, "private_rt"), id(&state, "private_rt"), "updated, not replaced");
    let again = env.ironplan(&["plan", &moved, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);

    // A resource gone from the plan is deleted (the flow log; its policy rule waived).
    let start = text.find("# No depends_on: the flow log waits").expect("flow");
    let end = text.find("[resources.igw]").expect("igw");
    let without = write(
        "without-flow.toml",
        &format!("{}{}", &text[..start], &text[end..]).replace("2192", "365").replace("10.1.1.0/24", "10.1.3.0/24"),
    );
    let down = env.ironplan(&["deploy", &without, "--allow", "vpc-flow-logs"]);
    down.assert_ok("deploy without the flow log");
    assert!(down.stderr.contains("1 deleted"), "{}", down.stderr);
    let flows = ctx.ec2.describe_flow_logs().send().await.expect("flow logs");
    assert!(
        flows.flow_logs().iter().all(|f| f.flow_log_id() != Some(id(&state, "flow"))),
        "the flow log is still there"
    );
    assert!(!env.state("audited-network-dev")["resources"].as_object().expect("resources").contains_key("flow"));

    env.ironplan(&["teardown", plan]).assert_ok("teardown");
    let vpcs = ctx.ec2.describe_vpcs().send().await.expect("vpcs");
    assert!(vpcs.vpcs().iter().all(|v| v.vpc_id() != Some(id(&state, "vpc"))));
}

/// A new VPC CIDR replaces the VPC and what lives in it; its internet gateway, which AWS would
/// not let the old VPC be deleted with, is replaced with it (deleted first, a new one attached to
/// the new VPC) rather than moved afterwards; checked through the SDK.
#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_vpc_takes_its_internet_gateway_along() {
    let env = Env::start();
    let plan = "examples/audited-network.toml";
    env.ironplan(&["deploy", plan]).assert_ok("deploy");
    let state = env.state("audited-network-dev");
    let dir = tempfile::tempdir().expect("temp");
    let text = std::fs::read_to_string(crate::common::root().join(plan)).expect("plan");
    let path = dir.path().join("vpc.toml");
    std::fs::write(&path, text.replace("cidr_block = \"10.1.0.0/16\"", "cidr_block = \"10.1.0.0/17\"")).expect("write");
    let changed = path.to_str().expect("utf-8 path");
    let shown = env.ironplan(&["plan", changed]);
    shown.assert_ok("plan");
    assert!(shown.stdout.contains("`vpc_id` attaches it to what is replaced"), "{}", shown.stdout);
    env.ironplan(&["deploy", changed]).assert_ok("deploy the new VPC");
    let new = env.state("audited-network-dev");
    assert_ne!(id(&new, "vpc"), id(&state, "vpc"));
    assert_ne!(id(&new, "igw"), id(&state, "igw"), "replaced, not moved");
    let ctx = env.ctx().await;
    let igws = ctx.ec2.describe_internet_gateways().send().await.expect("DescribeInternetGateways");
    let ids: Vec<&str> = igws.internet_gateways().iter().filter_map(|g| g.internet_gateway_id()).collect();
    assert_eq!(ids, [id(&new, "igw")], "the old gateway is deleted");
    let vpcs: Vec<&str> = igws.internet_gateways()[0].attachments().iter().filter_map(|a| a.vpc_id()).collect();
    assert_eq!(vpcs, [id(&new, "vpc")], "attached to the new VPC");
    let vpcs = ctx.ec2.describe_vpcs().vpc_ids(id(&new, "vpc")).send().await.expect("DescribeVpcs");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.1.0.0/17"));
    let all = ctx.ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    assert!(all.vpcs().iter().all(|v| v.vpc_id() != Some(id(&state, "vpc"))), "the old VPC is left");
    let again = env.ironplan(&["plan", changed, "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    env.ironplan(&["teardown", changed]).assert_ok("teardown");
}

/// An API change reaches the stage: a new integration response template updates it in place,
/// makes a new deployment (a snapshot of the API) and moves the stage to it, then deletes the
/// old deployment; checked through the SDK.
#[tokio::test(flavor = "multi_thread")]
async fn an_api_change_makes_a_new_deployment_and_moves_the_stage_to_it() {
    let env = Env::start();
    env.ironplan(&["deploy", PLAN, "--var", "environment_suffix=it"]).assert_ok("deploy");
    let before = env.state(STACK);
    let dir = tempfile::tempdir().expect("temp");
    let changed = dir.path().join("pipeline.toml");
    let text = std::fs::read_to_string(crate::common::root().join(PLAN)).expect("plan");
    let new_text = text.replace(r#"{\"patients\": []}"#, r#"{\"patients\": [], \"v\": 2}"#);
    assert_ne!(new_text, text, "the plan has the template to change");
    std::fs::write(&changed, new_text).expect("write");
    let changed = changed.to_str().expect("utf-8 path");

    let plan = env.ironplan(&["plan", changed, "--var", "environment_suffix=it"]);
    plan.assert_ok("plan");
    assert!(
        plan.stdout.contains("api_deployment") && plan.stdout.contains("create the new one, then delete the old"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("1 to update in place") || plan.stdout.contains("2 to update in place"),
        "{}",
        plan.stdout
    );

    let run = env.ironplan(&["deploy", changed, "--var", "environment_suffix=it"]);
    run.assert_ok("deploy the API change");
    assert!(run.stderr.contains("1 replaced"), "{}", run.stderr);
    let after = env.state(STACK);
    let (old, new) = (id(&before, "api_deployment"), id(&after, "api_deployment"));
    assert_ne!(old, new, "a new deployment");
    let ctx = env.ctx().await;
    let api = id(&after, "api");
    let stage = ctx.apigateway.get_stage().rest_api_id(api).stage_name("prod").send().await.expect("stage");
    assert_eq!(stage.deployment_id(), Some(new), "the stage serves the new deployment");
    let deployments = ctx.apigateway.get_deployments().rest_api_id(api).send().await.expect("deployments");
    let ids: Vec<&str> = deployments.items().iter().filter_map(|d| d.id()).collect();
    assert!(!ids.contains(&old) && ids.contains(&new), "{ids:?}");
    let response = ctx
        .apigateway
        .get_integration_response()
        .rest_api_id(api)
        .resource_id(id(&after, "patients"))
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .expect("integration response");
    let template = response.response_templates().and_then(|t| t.get("application/json")).map(String::as_str);
    assert_eq!(template, Some(r#"{"patients": [], "v": 2}"#));
    assert!(
        after["resources"].as_object().expect("resources").keys().all(|k| !k.contains('~')),
        "the old one is out of the state"
    );
    let again = env.ironplan(&["plan", changed, "--var", "environment_suffix=it", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    env.ironplan(&["teardown", changed, "--var", "environment_suffix=it"]).assert_ok("teardown");
}

//! The diff of `examples/audited-network.toml` against a state as its deploy left it.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::check::{self, Options};
use crate::plan::Plan;
use crate::state::ResourceState;

const PLAN: &str = include_str!("../../examples/audited-network.toml");

fn checked(text: &str) -> Checked {
    let plan = Plan::parse(Path::new("audited-network.toml"), text).unwrap_or_else(|p| panic!("{}", p.render_plain()));
    let allow = crate::check::policy::RULES.iter().map(|r| r.id.to_string()).collect();
    check::check_with(plan, Vec::new(), &Options { allow, ..Options::default() })
        .unwrap_or_else(|p| panic!("{}", p.render_plain()))
}

/// The state a deploy of `text` leaves: every resource ready, each attribute a fake value.
fn deployed(text: &str) -> State {
    let c = checked(text);
    let mut state = State::new(&c.stack());
    state.region = "us-east-1".into();
    state.account_id = "123456789012".into();
    for &i in c.graph.topo_order() {
        let name = c.graph.name(i).to_string();
        let t = c.type_of(&name).expect("typed");
        let res = c.plan.resource(&name).expect("declared");
        let props = {
            let outputs = |n: &str| state.resources.get(n).map(|r| &r.outputs);
            resolve_with(&c, res, &outputs, &state.region, &state.account_id).expect("resolves")
        };
        let outputs: Outputs =
            t.attrs.iter().map(|a| (a.name.to_string(), json!(format!("{name}-{}", a.name)))).collect();
        let deps = c.graph.dependencies(i).map(|(d, _)| c.graph.name(d).to_string()).collect();
        state.resources.insert(
            name.clone(),
            ResourceState {
                type_name: t.name.into(),
                status: Status::Ready,
                id: format!("{name}-id"),
                outputs,
                props: redact(Some(t), &c.stack(), props),
                depends_on: deps,
                delete_secs: f64::from(t.delete_secs),
                run_id: "r1".into(),
                previous: None,
            },
        );
    }
    state
}

fn action(d: &Diff, name: &str) -> Action {
    d.get(name).unwrap_or_else(|| panic!("{name} not in the diff")).action
}

#[test]
fn the_plan_as_deployed_changes_nothing() {
    let d = diff(&checked(PLAN), &deployed(PLAN));
    assert!(!d.has_changes(), "{d:#?}");
    assert_eq!(d.counts().get(&Action::Unchanged), Some(&15));
    assert_eq!(d.estimated_secs, 0.0);
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
}

#[test]
fn a_new_retention_is_an_update_in_place_with_old_and_new() {
    let d = diff(&checked(&PLAN.replace("retention_in_days = 2192", "retention_in_days = 365")), &deployed(PLAN));
    let r = d.get("flow_logs").expect("in the diff");
    assert_eq!(r.action, Action::Update);
    assert_eq!(
        r.changes,
        vec![PropChange {
            property: "retention_in_days".into(),
            old: json!(2192),
            new: json!(365),
            forces_replacement: false,
            unsupported: false,
            sensitive: false,
            refused: None,
        }]
    );
    assert_eq!(r.wave, 1);
    // Nothing references the retention: nothing else changes.
    assert_eq!(d.counts().get(&Action::Unchanged), Some(&14));
    assert_eq!(d.estimated_secs, UPDATE_SECS);
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
}

#[test]
fn a_new_tag_value_is_an_update_of_every_taggable_resource() {
    let text = PLAN.replace("Environment = \"${var.environment_suffix}\"", "Environment = \"dev\"\nTeam = \"net\"");
    let d = diff(&checked(&text), &deployed(PLAN));
    let updated: Vec<&str> =
        d.resources.iter().filter(|r| r.action == Action::Update).map(|r| r.name.as_str()).collect();
    assert!(updated.contains(&"flow_logs"), "{updated:?}");
    let tags = &d.get("flow_logs").expect("flow_logs").changes[0];
    assert_eq!(tags.property, "tags");
    assert_eq!(tags.new["Team"], json!("net"));
    assert_eq!(tags.old.get("Team"), None);
}

#[test]
fn a_subnet_cidr_replaces_it_and_what_references_it() {
    let d = diff(&checked(&PLAN.replace("10.1.1.0/24", "10.1.3.0/24")), &deployed(PLAN));
    let public = d.get("public").expect("public");
    assert_eq!(public.action, Action::Replace);
    assert!(public.changes[0].forces_replacement);
    assert!(public.reasons[0].contains("`cidr_block`"), "{:?}", public.reasons);
    // The NAT gateway and the association take the subnet's ID: a new subnet, new ones.
    for dependent in ["nat", "public_assoc"] {
        let r = d.get(dependent).expect("dependent");
        assert_eq!(r.action, Action::Replace, "{dependent}: {r:#?}");
        assert!(r.reasons.iter().any(|w| w.contains("`public` is replaced")), "{dependent}: {:?}", r.reasons);
        assert!(r.changes.iter().any(|c| c.new == json!(KNOWN_AFTER_DEPLOY)), "{dependent}: {:?}", r.changes);
    }
    // The private route table routes through the NAT gateway: its route changes in turn.
    assert_ne!(action(&d, "private_rt"), Action::Unchanged);
    assert_eq!(action(&d, "private"), Action::Unchanged);
    assert_eq!(action(&d, "vpc"), Action::Unchanged);
    // Waves count only what changes: the subnet first, then what waits for it.
    assert_eq!(d.get("public").map(|r| r.wave), Some(1));
    assert_eq!(d.get("nat").map(|r| r.wave), Some(2));
    assert!(d.estimated_secs > 0.0);
    // A subnet holds no data: its replacement needs no permission.
    let refused = d.refusals(&Default::default(), &Default::default());
    assert!(!refused.iter().any(|r| r.resource == "public"), "{refused:?}");
    assert!(d.render_text(&refused).contains("replace (delete, then create)"));
}

#[test]
fn a_resource_gone_from_the_plan_is_deleted_and_a_new_one_created() {
    let text = PLAN.replace("[resources.eip]", "[resources.eip2]").replace("${eip.id}", "${eip2.id}");
    let d = diff(&checked(&text), &deployed(PLAN));
    assert_eq!(action(&d, "eip"), Action::Delete);
    assert_eq!(action(&d, "eip2"), Action::Create);
    assert_eq!(d.resources.last().map(|r| r.name.as_str()), Some("eip"), "deletions come last");
    assert_eq!(action(&d, "nat"), Action::Replace, "its allocation_id now points at a new EIP");
}

#[test]
fn deleting_or_replacing_a_key_needs_its_name() {
    // The flow log key is gone from the plan (the log group is then unencrypted).
    let start = PLAN.find("[resources.key]").expect("key");
    let end = PLAN.find("[resources.flow_logs]").expect("flow_logs");
    let text = format!("{}{}", &PLAN[..start], &PLAN[end..]).replace("kms_key_id = \"${key.arn}\"\n", "");
    let d = diff(&checked(&text), &deployed(PLAN));
    let key = d.get("key").expect("key");
    assert_eq!((key.action, key.holds_data), (Action::Delete, true));
    let refused = d.refusals(&Default::default(), &Default::default());
    assert!(refused.iter().any(|r| r.resource == "key" && r.help.contains("--allow-delete key")), "{refused:?}");
    let allowed: BTreeSet<String> = ["key".to_string()].into();
    assert!(!d.refusals(&Default::default(), &allowed).iter().any(|r| r.resource == "key"));
    // Dropping the log group's key is an update in place (DisassociateKmsKey).
    let logs = d.get("flow_logs").expect("flow_logs");
    assert_eq!(logs.action, Action::Update);
    assert!(logs.changes.iter().any(|c| c.property == "kms_key_id" && !c.unsupported), "{logs:#?}");
    assert!(!refused.iter().any(|r| r.resource == "flow_logs"), "{refused:?}");

    // The description changes in place (UpdateKeyDescription): no permission needed.
    let d = diff(&checked(&PLAN.replace("flow log encryption", "flow logs")), &deployed(PLAN));
    let key = d.get("key").expect("key");
    assert_eq!(key.action, Action::Update);
    assert!(!key.changes[0].unsupported && !key.changes[0].forces_replacement, "{key:#?}");
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
    // The key spec forces a new key.
    let text = PLAN.replace("enable_key_rotation = true", "enable_key_rotation = true\nkey_spec = \"RSA_2048\"");
    let d = diff(&checked(&text), &deployed(PLAN));
    let key = d.get("key").expect("key");
    assert_eq!((key.action, key.holds_data), (Action::Replace, true));
    let refused = d.refusals(&Default::default(), &Default::default());
    assert!(refused.iter().any(|r| r.resource == "key" && r.help.contains("--allow-replace key")), "{refused:?}");
}

/// A change AWS can make in place but the type's `update` does not apply (no registered type
/// has one today: every `in_place` property is in its type's `UPDATES`) is shown and refused
/// as "cannot change it yet", never skipped.
#[test]
fn a_change_ironplan_cannot_make_yet_is_refused() {
    let api = "[plan]\nname = \"api\"\n\n[resources.api]\ntype = \"apigateway:RestApi\"\nname = \"api\"\n";
    let tagged = api.replace("[resources.api]", "[plan.default_tags]\nTeam = \"a\"\n\n[resources.api]");
    let mut d = diff(&checked(&tagged), &deployed(api));
    let r = d.resources.iter_mut().find(|r| r.name == "api").expect("api");
    let tags = r.changes.iter_mut().find(|c| c.property == "tags").expect("a tags change");
    assert!(!tags.unsupported && !tags.forces_replacement, "the API's tags update in place: {tags:#?}");
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
    // The same change, were the type's update not to apply it.
    let r = d.resources.iter_mut().find(|r| r.name == "api").expect("api");
    r.changes.iter_mut().filter(|c| c.property == "tags").for_each(|c| c.unsupported = true);
    let refused = d.refusals(&Default::default(), &Default::default());
    assert!(refused.iter().any(|f| f.resource == "api" && f.why.contains("cannot change it yet")), "{refused:?}");
}

#[test]
fn an_interrupted_create_is_resumed_not_compared() {
    let mut state = deployed(PLAN);
    if let Some(r) = state.resources.get_mut("nat") {
        r.status = Status::Created;
    }
    let d = diff(&checked(PLAN), &state);
    let nat = d.get("nat").expect("nat");
    assert_eq!(nat.action, Action::Create);
    assert!(nat.reasons[0].contains("resumes"), "{:?}", nat.reasons);
}

#[test]
fn sensitive_values_are_never_shown() {
    let text = include_str!("../../tests/fixtures/valid/sensitive_values.toml");
    let state = deployed(text);
    let changed = text.replacen("env-token-s3cr3t-5678", "env-token-s3cr3t-9999", 1);
    assert_ne!(changed, text, "the fixture has a value to change");
    let d = diff(&checked(&changed), &state);
    let shown = serde_json::to_string(&d).expect("json");
    assert!(!shown.contains("s3cr3t") && !shown.contains("env-value-plain"), "{shown}");
    assert!(d.has_changes(), "a changed secret is still seen (its digest changes)");
    assert!(shown.contains("(sensitive)"), "{shown}");
    let task = d.resources.iter().find(|r| r.action != Action::Unchanged).expect("a change");
    assert!(task.changes.iter().all(|c| c.sensitive), "{task:#?}");
    assert!(d.render_text(&[]).contains("a sensitive value in it changed"), "{}", d.render_text(&[]));
}

#[test]
fn an_internet_gateway_moved_to_a_new_vpc_is_an_update_in_place() {
    let text = PLAN
        .replace(
            "[resources.igw]\ntype = \"ec2:InternetGateway\"\nvpc_id = \"${vpc.id}\"",
            "[resources.igw]\ntype = \"ec2:InternetGateway\"\nvpc_id = \"${vpc2.id}\"",
        )
        .replace(
            "[resources.public]",
            "[resources.vpc2]\ntype = \"ec2:Vpc\"\ncidr_block = \"10.9.0.0/16\"\n\n[resources.public]",
        );
    assert_ne!(text, PLAN);
    let d = diff(&checked(&text), &deployed(PLAN));
    assert_eq!(action(&d, "vpc2"), Action::Create);
    let igw = d.get("igw").expect("igw");
    assert_eq!(igw.action, Action::Update, "{igw:#?}");
    let c = &igw.changes[0];
    assert_eq!((c.property.as_str(), &c.old, &c.new), ("vpc_id", &json!("vpc-id"), &json!(KNOWN_AFTER_DEPLOY)));
    assert!(!c.forces_replacement && !c.unsupported, "{c:#?}");
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
    // The gateway keeps its ID: the route through it is untouched.
    assert_eq!(action(&d, "public_rt"), Action::Unchanged);
}

#[test]
fn an_internet_gateway_is_replaced_with_its_vpc() {
    let d =
        diff(&checked(&PLAN.replace("cidr_block = \"10.1.0.0/16\"", "cidr_block = \"10.1.0.0/17\"")), &deployed(PLAN));
    assert_eq!(action(&d, "vpc"), Action::Replace);
    // The old VPC is deleted first, which AWS refuses while the gateway is attached to it: the
    // gateway goes with it rather than moving afterwards.
    let igw = d.get("igw").expect("igw");
    assert_eq!(igw.action, Action::Replace, "{igw:#?}");
    assert!(igw.changes.iter().any(|c| c.property == "vpc_id" && c.forces_replacement && !c.unsupported));
    assert!(igw.reasons.iter().any(|r| r.contains("`vpc_id` attaches it")), "{:?}", igw.reasons);
    let refused = d.refusals(&Default::default(), &Default::default());
    assert!(!refused.iter().any(|r| r.resource == "igw"), "{refused:?}");
}

// An Aurora cluster whose master password RDS manages, and a Valkey group.
const DATA: &str = r#"
[plan]
name = "data"

[resources.db]
type = "rds:DbCluster"
db_cluster_identifier = "data-aurora"
engine = "aurora-postgresql"
master_username = "admin_user"
manage_master_user_password = true
skip_final_snapshot = true

[resources.cache]
type = "elasticache:ReplicationGroup"
replication_group_id = "data-cache"
replication_group_description = "d"
engine = "redis"

[resources.events]
type = "kinesis:Stream"
stream_name = "data-events"
shard_count = 2

[resources.nfs]
type = "efs:MountTarget"
file_system_id = "fs-1"
subnet_id = "subnet-1"
security_groups = ["sg-1"]
"#;

/// What ironplan updates but AWS cannot do in place is refused before any call, naming the
/// property and what to do: turning RDS password management off, rekeying a managed secret,
/// an engine other than redis to valkey. The changes AWS can make are plain updates.
#[test]
fn changes_aws_cannot_make_in_place_are_refused_with_what_to_do() {
    let refused_of = |d: &Diff| d.refusals(&Default::default(), &Default::default());
    let off = DATA.replace("manage_master_user_password = true", "manage_master_user_password = false");
    let d = diff(&checked(&off), &deployed(DATA));
    let r = d.get("db").expect("db");
    assert!(r.changes.iter().any(|c| c.property == "manage_master_user_password" && c.refused.is_some()), "{r:#?}");
    let refused = refused_of(&d);
    assert!(
        refused.iter().any(|f| f.resource == "db"
            && f.why
                .contains("`manage_master_user_password` of rds:DbCluster: turning it off needs a master password")
            && f.help.contains("keep manage_master_user_password = true")),
        "{refused:?}"
    );
    assert!(d.render_text(&refused).contains("(AWS cannot make this change in place)"));

    let rekeyed =
        DATA.replace("skip_final_snapshot = true", "skip_final_snapshot = true\nmaster_user_secret_kms_key_id = \"k\"");
    let refused = refused_of(&diff(&checked(&rekeyed), &deployed(DATA)));
    assert!(refused.iter().any(|f| f.why.contains("cannot change the KMS key of a master secret")), "{refused:?}");

    let valkey = DATA.replace("engine = \"redis\"", "engine = \"valkey\"");
    let d = diff(&checked(&valkey), &deployed(DATA));
    assert_eq!(action(&d, "cache"), Action::Update);
    assert!(refused_of(&d).is_empty(), "redis to valkey is in place");
    let refused = refused_of(&diff(&checked(DATA), &deployed(&valkey)));
    assert!(
        refused.iter().any(|f| f.resource == "cache" && f.why.contains("only from redis to valkey")),
        "{refused:?}"
    );

    // An older engine version is refused (AWS only upgrades), a newer one is an update; transit
    // encryption on an engine older than Redis OSS 7.0 is refused, on 7.1 an update.
    let v62 = DATA.replace("engine = \"redis\"", "engine = \"redis\"\nengine_version = \"6.2\"");
    let v71 = DATA.replace("engine = \"redis\"", "engine = \"redis\"\nengine_version = \"7.1\"");
    let refused = refused_of(&diff(&checked(&v62), &deployed(&v71)));
    assert!(
        refused.iter().any(|f| f.resource == "cache" && f.why.contains("never to an older version")),
        "{refused:?}"
    );
    let d = diff(&checked(&v71), &deployed(&v62));
    assert_eq!(action(&d, "cache"), Action::Update);
    assert!(refused_of(&d).is_empty(), "{:?}", refused_of(&d));
    let tls = |text: &str| text.replace("engine = \"redis\"", "engine = \"redis\"\ntransit_encryption_enabled = true");
    let refused = refused_of(&diff(&checked(&tls(&v62)), &deployed(&v62)));
    assert!(refused.iter().any(|f| f.resource == "cache" && f.why.contains("only from Redis OSS 7.0")), "{refused:?}");
    let d = diff(&checked(&tls(&v71)), &deployed(&v71));
    assert_eq!(action(&d, "cache"), Action::Update);
    assert!(refused_of(&d).is_empty(), "{:?}", refused_of(&d));
    // To valkey (its own version, AWS's newest) with TLS at once: the 6.2 of redis is no bar.
    let valkey_tls =
        tls(&v62).replace("engine = \"redis\"", "engine = \"valkey\"").replace("engine_version = \"6.2\"\n", "");
    let refused = refused_of(&diff(&checked(&valkey_tls), &deployed(&v62)));
    assert!(refused.is_empty(), "{refused:?}");
    // More nodes: an update.
    let d = diff(
        &checked(&DATA.replace("engine = \"redis\"", "engine = \"redis\"\nnum_cache_clusters = 2")),
        &deployed(DATA),
    );
    assert_eq!(action(&d, "cache"), Action::Update);
    assert!(refused_of(&d).is_empty(), "{:?}", refused_of(&d));

    // A replacement creates the group anew: its engine is then whatever the plan says.
    let replaced = DATA.replace("engine = \"redis\"", "engine = \"redis\"\nport = 6380");
    let d = diff(&checked(&replaced), &deployed(&valkey));
    assert_eq!(action(&d, "cache"), Action::Replace);
    assert!(!refused_of(&d).iter().any(|f| f.why.contains("only from redis to valkey")), "{:?}", refused_of(&d));

    // A shard count with ON_DEMAND, and a mount target without security groups.
    let on_demand =
        DATA.replace("shard_count = 2", "shard_count = 2\nstream_mode_details = { stream_mode = \"ON_DEMAND\" }");
    let refused = refused_of(&diff(&checked(&on_demand), &deployed(DATA)));
    assert!(
        refused
            .iter()
            .any(|f| f.resource == "events" && f.why.contains("only meaningful with stream_mode PROVISIONED")),
        "{refused:?}"
    );
    let on_demand = on_demand.replace("shard_count = 2\n", "");
    let d = diff(&checked(&on_demand), &deployed(DATA));
    assert_eq!(action(&d, "events"), Action::Update);
    assert!(refused_of(&d).is_empty(), "{:?}", refused_of(&d));
    let bare = DATA.replace("security_groups = [\"sg-1\"]\n", "");
    let refused = refused_of(&diff(&checked(&bare), &deployed(DATA)));
    assert!(refused.iter().any(|f| f.resource == "nfs" && f.why.contains("cannot be emptied")), "{refused:?}");
    let d = diff(&checked(&DATA.replace("sg-1", "sg-2")), &deployed(DATA));
    assert_eq!(action(&d, "nfs"), Action::Update);
    assert!(refused_of(&d).is_empty());

    // Turning management on (from a cluster deployed without it) is an update.
    let unmanaged = off.replace("master_username = \"admin_user\"\n", "");
    let on = DATA.replace("master_username = \"admin_user\"\n", "");
    let d = diff(&checked(&on), &deployed(&unmanaged));
    assert_eq!(action(&d, "db"), Action::Update);
    assert!(refused_of(&d).is_empty(), "{:?}", refused_of(&d));
}

// A REST API with paths `/a`, `/b` and `/a/x` (a GET with a mock integration and a response),
// deployed to a stage.
const API: &str = r#"
[plan]
name = "api"

[resources.api]
type = "apigateway:RestApi"
name = "a"

[resources.a]
type = "apigateway:Resource"
rest_api_id = "${api.id}"
parent_id = "${api.root_resource_id}"
path_part = "a"

[resources.b]
type = "apigateway:Resource"
rest_api_id = "${api.id}"
parent_id = "${api.root_resource_id}"
path_part = "b"

[resources.x]
type = "apigateway:Resource"
rest_api_id = "${api.id}"
parent_id = "${a.id}"
path_part = "x"

[resources.get]
type = "apigateway:Method"
rest_api_id = "${api.id}"
resource_id = "${x.id}"
http_method = "GET"
authorization_type = "NONE"

[resources.mock]
type = "apigateway:Integration"
rest_api_id = "${api.id}"
resource_id = "${x.id}"
http_method = "${get.http_method}"
integration_type = "MOCK"

[resources.ok]
type = "apigateway:MethodResponse"
rest_api_id = "${api.id}"
resource_id = "${x.id}"
http_method = "${get.http_method}"
status_code = "200"
response_models = { "application/json" = "Empty" }

[resources.dep]
type = "apigateway:Deployment"
rest_api_id = "${api.id}"
description = "v1"

[resources.prod]
type = "apigateway:Stage"
rest_api_id = "${api.id}"
stage_name = "prod"
deployment_id = "${dep.id}"
"#;

/// The change of `name`'s one property, which must be an update in place ironplan makes.
fn updated<'a>(d: &'a Diff, name: &str, property: &str) -> &'a PropChange {
    let r = d.get(name).unwrap_or_else(|| panic!("{name} not in the diff"));
    assert_eq!(r.action, Action::Update, "{r:#?}");
    let c = r.changes.iter().find(|c| c.property == property).unwrap_or_else(|| panic!("{name}.{property}: {r:#?}"));
    assert!(!c.forces_replacement && !c.unsupported && c.refused.is_none(), "{c:#?}");
    c
}

#[test]
fn a_path_moved_or_renamed_in_place_makes_a_new_deployment() {
    assert!(!diff(&checked(API), &deployed(API)).has_changes());
    for text in [API.replace("parent_id = \"${a.id}\"", "parent_id = \"${b.id}\""), API.replace("\"x\"", "\"y\"")] {
        assert_ne!(text, API);
        let d = diff(&checked(&text), &deployed(API));
        let r = d.get("x").expect("x");
        assert_eq!(r.changes.len(), 1, "{r:#?}");
        updated(&d, "x", &r.changes[0].property.clone());
        // The resource keeps its ID: its method is untouched, but the deployment is a snapshot
        // of the paths too, so a new one is made and the stage moves to it.
        assert_eq!(action(&d, "get"), Action::Unchanged);
        let dep = d.get("dep").expect("dep");
        assert_eq!(dep.action, Action::Replace, "{dep:#?}");
        assert!(dep.create_before_delete, "a new deployment beside the old one");
        assert!(dep.reasons.iter().any(|r| r.contains("a snapshot of `x`")), "{:?}", dep.reasons);
        assert_eq!(updated(&d, "prod", "deployment_id").new, json!(KNOWN_AFTER_DEPLOY));
        assert!(d.get("x").expect("x").wave < dep.wave, "the move before the new deployment");
        assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
    }
}

#[test]
fn api_descriptions_models_and_tags_update_in_place() {
    let d = diff(&checked(&API.replace("\"v1\"", "\"v2\"")), &deployed(API));
    assert_eq!(updated(&d, "dep", "description").new, json!("v2"));
    assert_eq!(action(&d, "prod"), Action::Unchanged, "the same deployment, described anew");

    let d = diff(&checked(&API.replace("= \"Empty\"", "= \"Error\"")), &deployed(API));
    assert_eq!(updated(&d, "ok", "response_models").new, json!({"application/json": "Error"}));
    assert_eq!(action(&d, "dep"), Action::Replace, "a new deployment holds the new models");

    let d = diff(&checked(&API.replace("name = \"a\"", "name = \"a\"\ntags = { Team = \"api\" }")), &deployed(API));
    assert_eq!(updated(&d, "api", "tags").new["Team"], json!("api"));
    assert!(d.refusals(&Default::default(), &Default::default()).is_empty());
}

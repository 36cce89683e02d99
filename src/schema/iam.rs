//! `iam:*` types: roles that AWS services assume, and the inline policies that give them
//! least privilege.
//!
//! A new role is not usable for seconds after it exists: the services that assume it answer
//! "cannot be assumed" meanwhile, and `crate::aws` retries those errors (bounded) on their side.

use super::{Form, Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&ROLE, &ROLE_POLICY];

pub const ROLE_NAME: NameRule = NameRule::new("IAM role name", "CreateRole RoleName", 1, 64, "a-zA-Z0-9_+=,.@-");
pub const POLICY_NAME: NameRule =
    NameRule::new("IAM inline policy name", "PutRolePolicy PolicyName", 1, 128, "a-zA-Z0-9_+=,.@-");
/// AWS allows `!` to DEL; DEL is a control character, which ironplan refuses in every name.
pub const PATH: NameRule = NameRule::new("IAM path", "CreateRole Path", 1, 512, "!-~").form(Form::IamPath);

/// One inline policy of a role (`inline_policies`), named as PutRolePolicy's builder.
const INLINE_POLICY: &[Prop] = &[
    Prop::req("policy_name", Kind::Str, "the policy's name, unique within the role").name_rule(&POLICY_NAME),
    Prop::req("policy_document", Kind::Document, "the permissions policy"),
];

pub const ROLE: TypeSpec = TypeSpec {
    name: "iam:Role",
    aliases: &["AWS::IAM::Role", "aws_iam_role", "aws:iam/role:Role"],
    summary: "An IAM role, with AWS managed policies attached",
    calls: "CreateRole (role_name, assume_role_policy_document, description, path, max_session_duration, tags); \
            AttachRolePolicy once per ARN of the ironplan property `policy_arns` (managed policies); \
            PutRolePolicy once per entry of the ironplan property `inline_policies` (policy_name, policy_document); \
            teardown: DetachRolePolicy for every attached policy, DeleteRolePolicy for inline policies left, \
            RemoveRoleFromInstanceProfile, DeleteRole",
    props: &[
        Prop::req("role_name", Kind::Str, "the role's name").name_rule(&ROLE_NAME),
        Prop::req("assume_role_policy_document", Kind::Document, "the trust policy: who may assume the role"),
        Prop::opt("description", Kind::Str, "what the role is for"),
        Prop::opt("path", Kind::Str, "the role's path (default `/`)").name_rule(&PATH),
        Prop::opt("max_session_duration", Kind::Int, "maximum session length in seconds (3600-43200)")
            .range(3600, 43200),
        Prop::opt("policy_arns", Kind::List(&Kind::Str), "ARNs of managed policies to attach (AttachRolePolicy)"),
        Prop::opt(
            "inline_policies",
            Kind::List(&Kind::Struct(INLINE_POLICY)),
            "inline policies put on the role once it exists (PutRolePolicy each)",
        ),
        Prop::opt("tags", Kind::Tags, "tags of the role"),
    ],
    attrs: &[attr("id", "the role name"), attr("name", "the role name"), attr("arn", "the role ARN")],
    taggable: true,
    create_secs: 10,
    delete_secs: 3,
    implied: &[],
};

pub const ROLE_POLICY: TypeSpec = TypeSpec {
    name: "iam:RolePolicy",
    aliases: &["AWS::IAM::RolePolicy", "aws_iam_role_policy", "aws:iam/rolePolicy:RolePolicy"],
    summary: "An inline policy of an IAM role",
    calls: "PutRolePolicy (role_name, policy_name, policy_document); teardown: DeleteRolePolicy",
    props: &[
        Prop::req("role_name", Kind::Str, "the role that gets the policy").name_rule(&ROLE_NAME),
        Prop::req("policy_name", Kind::Str, "the policy's name, unique within the role").name_rule(&POLICY_NAME),
        Prop::req("policy_document", Kind::Document, "the permissions policy"),
    ],
    attrs: &[
        attr("id", "`<role_name>:<policy_name>`"),
        attr("role_name", "the role that has the policy"),
        attr("policy_name", "the policy's name"),
    ],
    taggable: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[],
};

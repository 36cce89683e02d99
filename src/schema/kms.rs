//! `kms:*` types: the customer-managed key every other resource encrypts with, and its alias.
//!
//! A key cannot be deleted, only scheduled for deletion (7 days minimum): teardown schedules it
//! and counts it gone once it is `PendingDeletion`. The alias refers to the key, so teardown
//! deletes it first and the next deploy can create the alias again.

use super::{Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&KEY, &ALIAS];

pub const ALIAS_NAME: NameRule = NameRule::new("KMS alias name", "CreateAlias AliasName", 1, 256, "a-zA-Z0-9/_-")
    .prefix("alias/")
    .reserved_prefixes(&["alias/aws/"]);

pub const KEY: TypeSpec = TypeSpec {
    name: "kms:Key",
    aliases: &["AWS::KMS::Key", "aws_kms_key", "aws:kms/key:Key"],
    summary: "A customer-managed KMS key",
    calls: "CreateKey (description, key_usage, key_spec, policy, tags); EnableKeyRotation once the key is enabled, \
            when the ironplan property `enable_key_rotation` is true; teardown: ScheduleKeyDeletion (7 days)",
    props: &[
        Prop::opt("description", Kind::Str, "what the key is for"),
        Prop::opt(
            "key_usage",
            Kind::Str,
            "ENCRYPT_DECRYPT (default), SIGN_VERIFY, GENERATE_VERIFY_MAC or KEY_AGREEMENT",
        ),
        Prop::opt("key_spec", Kind::Str, "SYMMETRIC_DEFAULT (default), RSA_2048, ECC_NIST_P256, HMAC_256..."),
        Prop::opt("policy", Kind::Document, "the key policy; AWS's default policy (account root) when absent"),
        Prop::opt("enable_key_rotation", Kind::Bool, "rotate the key material yearly (EnableKeyRotation)"),
        Prop::opt("tags", Kind::Tags, "tags of the key"),
    ],
    attrs: &[
        attr("id", "the key ID (a UUID)"),
        attr("arn", "the key ARN, as policies and other services' kms_key_id want it"),
    ],
    taggable: true,
    create_secs: 3,
    delete_secs: 2,
    implied: &[],
};

pub const ALIAS: TypeSpec = TypeSpec {
    name: "kms:Alias",
    aliases: &["AWS::KMS::Alias", "aws_kms_alias", "aws:kms/alias:Alias"],
    summary: "A friendly name for a KMS key",
    calls: "CreateAlias (alias_name, target_key_id); teardown: DeleteAlias",
    props: &[
        Prop::req("alias_name", Kind::Str, "the alias, starting with `alias/`").name_rule(&ALIAS_NAME),
        Prop::req("target_key_id", Kind::Str, "the key ID or ARN the alias points to"),
    ],
    attrs: &[attr("id", "the alias name (`alias/...`)"), attr("target_key_id", "the key the alias points to")],
    taggable: false,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

//! Every resource type ironplan knows, registered once: its schema and its adapter together,
//! looked up by type name. Each service folder lists its types (`TYPES`, one line per type);
//! this file lists the services.
//!
//! API: [`all`] (sorted by name), [`get`], [`specs`], [`updates`], [`refuses`], [`not_found_codes`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::adapter::Adapter;
use crate::schema::TypeSpec;

/// The services' type lists.
fn services() -> Vec<&'static [&'static dyn Adapter]> {
    vec![
        super::apigateway::TYPES,
        super::applicationautoscaling::TYPES,
        super::cloudwatch::TYPES,
        super::ec2::TYPES,
        super::ecs::TYPES,
        super::efs::TYPES,
        super::elasticache::TYPES,
        super::iam::TYPES,
        super::kinesis::TYPES,
        super::kms::TYPES,
        super::logs::TYPES,
        super::rds::TYPES,
        super::s3::TYPES,
    ]
}

struct Registry {
    by_name: BTreeMap<&'static str, &'static dyn Adapter>,
    sorted: Vec<&'static dyn Adapter>,
    specs: Vec<&'static TypeSpec>,
    not_found: Vec<&'static str>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let by_name: BTreeMap<&'static str, &'static dyn Adapter> =
            services().into_iter().flatten().map(|a| (a.spec().name, *a)).collect();
        let sorted: Vec<_> = by_name.values().copied().collect();
        let specs = sorted.iter().map(|a| a.spec()).collect();
        let mut not_found: Vec<&'static str> = sorted.iter().flat_map(|a| a.not_found().iter().copied()).collect();
        not_found.sort_unstable();
        not_found.dedup();
        Registry { by_name, sorted, specs, not_found }
    })
}

/// Every registered type, sorted by name.
pub fn all() -> &'static [&'static dyn Adapter] {
    &registry().sorted
}

/// The adapter of `type_name`.
pub fn get(type_name: &str) -> Option<&'static dyn Adapter> {
    registry().by_name.get(type_name).copied()
}

/// Every registered type's schema, sorted by name.
pub fn specs() -> &'static [&'static TypeSpec] {
    &registry().specs
}

/// True if ironplan's adapter of `type_name` changes `prop` in place.
pub fn updates(type_name: &str, prop: &str) -> bool {
    get(type_name).is_some_and(|a| a.updates().contains(&prop))
}

/// Why ironplan's adapter of `type_name` refuses this change of `prop` although it updates
/// the property ([`Adapter::refuses`]).
pub fn refuses(
    type_name: &str,
    prop: &str,
    old: &serde_json::Map<String, serde_json::Value>,
    new: &serde_json::Map<String, serde_json::Value>,
) -> Option<super::Refused> {
    get(type_name).and_then(|a| a.refuses(prop, old, new))
}

/// True if a resource of `type_name` is a snapshot of its dependencies ([`Adapter::snapshot`]).
pub fn snapshot(type_name: &str) -> bool {
    get(type_name).is_some_and(|a| a.snapshot())
}

/// True if a replacement of `type_name` can exist beside the old one ([`Adapter::coexists`]).
pub fn coexists(type_name: &str) -> bool {
    get(type_name).is_some_and(|a| a.coexists())
}

/// True if `prop` of `type_name` attaches it to what it references ([`Lifecycle::PINS`]).
///
/// [`Lifecycle::PINS`]: super::adapter::Lifecycle::PINS
pub fn pins(type_name: &str, prop: &str) -> bool {
    get(type_name).is_some_and(|a| a.pins().contains(&prop))
}

/// The union of the types' "it is not there" error codes.
pub fn not_found_codes() -> &'static [&'static str] {
    &registry().not_found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two registrations of one name would shadow each other.
    #[test]
    fn every_type_is_registered_once() {
        let n: usize = services().iter().map(|s| s.len()).sum();
        assert_eq!(n, all().len(), "a type name is registered twice");
    }

    /// A type's update applies only properties its schema says AWS can change in place.
    #[test]
    fn what_a_type_updates_its_schema_calls_in_place() {
        for a in all() {
            for u in a.updates() {
                let p = a.spec().prop(u).unwrap_or_else(|| panic!("{} updates unknown `{u}`", a.spec().name));
                assert!(
                    p.changes_in_place(),
                    "{} updates `{u}`, which its schema says forces a replacement",
                    a.spec().name
                );
            }
            for pin in a.pins() {
                assert!(a.updates().contains(pin), "{} pins `{pin}`, which its update does not change", a.spec().name);
            }
        }
    }

    /// What makes a type complete, beyond what the compiler checks (the trait has no default
    /// for create, find, read, delete or gone): its not-found codes.
    #[test]
    fn every_type_declares_its_not_found_codes() {
        for a in all() {
            assert!(!a.not_found().is_empty(), "{} declares no not-found code", a.spec().name);
        }
    }
}

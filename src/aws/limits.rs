//! Client-side token buckets that keep ironplan under AWS's published request rates, so a
//! burst of creates is paced instead of throttled.
//!
//! They sit in the SDK's HTTP client ([`limited_http_client`]): every attempt (retries too, as
//! AWS counts them) waits for a token of each bucket its operation draws from. The operation
//! is read off the signed request: `X-Amz-Target` (JSON protocols), `Action=` (query
//! protocols) or the REST path (API Gateway), and the service off the SigV4 scope.
//!
//! | bucket | rate | burst | source |
//! |---|---|---|---|
//! | EC2 mutating actions | 5/s | 50 | EC2 API request throttling (resource-based token bucket) |
//! | EC2 non-mutating actions | 20/s | 100 | same |
//! | EC2 CreateNatGateway | 1/s | 1 | the spec's list |
//! | API Gateway, any call | 10/s | 40 | API Gateway account-level limits |
//! | API Gateway CreateDeployment | 1 per 5 s | 1 | same |
//! | API Gateway CreateRestApi | 1 per 3 s | 1 | same |
//! | RDS, any call | 12/s | 12 | RDS API throttling |
//!
//! A bucket's wait happens inside the SDK's attempt, whose timeout allows it 30 s
//! ([`super::Timeouts::attempt`]). So that a wide stack cannot queue hundreds of calls on one
//! bucket (a thousand EC2 creates at 5/s would wait minutes, time out and retry), a resource's
//! own steps (create, find, update, delete: one to a few calls each) first pass its service's
//! [`Admission`] gate: at most [`admitted`] of them at once per paced service, so a call waits
//! seconds for its tokens, and the rest wait their turn in the engine, outside any timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// A token bucket: `rate` tokens a second, at most `burst` saved.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub rate: f64,
    pub burst: f64,
}

/// The buckets' state, shared by every client of a [`super::Ctx`].
#[derive(Debug, Default)]
pub struct Limiter {
    state: Mutex<HashMap<&'static str, (f64, tokio::time::Instant)>>,
}

/// The bucket of each name used by [`buckets_for`].
pub fn bucket(name: &str) -> Bucket {
    match name {
        "ec2:mutating" => Bucket { rate: 5.0, burst: 50.0 },
        "ec2:read" => Bucket { rate: 20.0, burst: 100.0 },
        "ec2:CreateNatGateway" => Bucket { rate: 1.0, burst: 1.0 },
        "apigateway" => Bucket { rate: 10.0, burst: 40.0 },
        "apigateway:CreateDeployment" => Bucket { rate: 0.2, burst: 1.0 },
        "apigateway:CreateRestApi" => Bucket { rate: 1.0 / 3.0, burst: 1.0 },
        "rds" => Bucket { rate: 12.0, burst: 12.0 },
        _ => Bucket { rate: f64::INFINITY, burst: f64::INFINITY },
    }
}

const EC2_MUTATING: &[&str] = &[
    "Create",
    "Delete",
    "Modify",
    "Associate",
    "Disassociate",
    "Attach",
    "Detach",
    "Allocate",
    "Release",
    "Authorize",
    "Revoke",
    "Replace",
    "Run",
    "Terminate",
    "Start",
    "Stop",
];

/// The buckets a call of `operation` on `service` (the SigV4 signing name) draws from.
pub fn buckets_for(service: &str, operation: &str) -> Vec<&'static str> {
    match service {
        "ec2" => {
            let mut v =
                vec![if EC2_MUTATING.iter().any(|p| operation.starts_with(p)) { "ec2:mutating" } else { "ec2:read" }];
            if operation == "CreateNatGateway" {
                v.push("ec2:CreateNatGateway");
            }
            v
        }
        "apigateway" => match operation {
            "CreateDeployment" => vec!["apigateway", "apigateway:CreateDeployment"],
            "CreateRestApi" => vec!["apigateway", "apigateway:CreateRestApi"],
            _ => vec!["apigateway"],
        },
        "rds" => vec!["rds"],
        _ => Vec::new(),
    }
}

impl Limiter {
    /// Waits for a token of each named bucket in turn. Tokens are reserved in the order asked
    /// (the bucket may go into debt), so waiters are served first come, first served: a call's
    /// wait is the queue ahead of it over the rate, never longer because others were luckier.
    pub async fn acquire(&self, names: &[&'static str]) {
        for name in names {
            let wait = self.reserve(name, tokio::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// Takes a token (now, or the next not yet promised) and says how long until it is there.
    fn reserve(&self, name: &'static str, now: tokio::time::Instant) -> Duration {
        let b = bucket(name);
        if !b.rate.is_finite() {
            return Duration::ZERO;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = state.entry(name).or_insert((b.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * b.rate).min(b.burst);
        *last = now;
        *tokens -= 1.0;
        if *tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-*tokens / b.rate) }
    }
}

/// How many resource steps of `service` (the type name's prefix, `ec2` of `ec2:Vpc`) may run
/// at once, for the paced services: enough to use each bucket's rate, few enough that the
/// calls they make (up to about 3 each) wait well under the attempt's 30 s for their tokens
/// (EC2: 20 steps, 60 calls, 50 at once then 5/s: 2 s).
pub fn admitted(service: &str) -> Option<usize> {
    match service {
        "ec2" => Some(20),
        "apigateway" => Some(10),
        "rds" => Some(8),
        _ => None,
    }
}

/// One gate per paced service ([`admitted`]), shared by every step of a run.
#[derive(Debug, Default)]
pub struct Admission {
    gates: Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl Admission {
    /// Waits for a turn of `type_name`'s service; the turn lasts as long as the permit. `None`
    /// for a service without a gate.
    pub async fn enter(&self, type_name: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let service = type_name.split(':').next().unwrap_or_default();
        let cap = admitted(service)?;
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            gates.entry(service.to_string()).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(cap))).clone()
        };
        // The gate is never closed: an error here cannot happen, and would only mean no gate.
        gate.acquire_owned().await.ok()
    }
}

/// The operation and service of a signed request, as far as they can be told.
pub fn identify(req: &HttpRequest) -> (String, String) {
    let header = |n: &str| req.headers().get(n).map(str::to_string);
    let service = header("authorization")
        .and_then(|a| a.split("Credential=").nth(1).map(str::to_string))
        .and_then(|c| c.split(',').next().and_then(|scope| scope.split('/').nth(3).map(str::to_string)))
        .unwrap_or_default();
    if let Some(target) = header("x-amz-target") {
        return (service, target.rsplit('.').next().unwrap_or_default().to_string());
    }
    let body = req.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    let query = req.uri().split('?').nth(1).unwrap_or_default().to_string();
    for part in body.split('&').chain(query.split('&')) {
        if let Some(action) = part.strip_prefix("Action=") {
            return (service, action.to_string());
        }
    }
    let path = req.uri().split("://").nth(1).and_then(|r| r.find('/').map(|i| r[i..].to_string())).unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let op = match (req.method(), segments.as_slice()) {
        ("POST", ["restapis"]) => "CreateRestApi",
        ("POST", ["restapis", _, "deployments"]) => "CreateDeployment",
        _ => "Other",
    };
    (service, op.to_string())
}

/// The SDK's default HTTPS client, pacing every call with `limiter`.
pub fn limited_http_client(limiter: Arc<Limiter>) -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    // The same client the SDK builds by default (rustls with aws-lc, proxy from the environment).
    let inner = Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let mut conn =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = runtime_components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    });
    SharedHttpClient::new(Limited { inner, limiter })
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

impl HttpClient for Limited {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(LimitedConnector { inner, limiter: self.limiter.clone() })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (service, op) = identify(&request);
        let names = buckets_for(&service, &op);
        let (inner, limiter) = (self.inner.clone(), self.limiter.clone());
        HttpConnectorFuture::new(async move {
            limiter.acquire(&names).await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_draw_from_their_service_buckets() {
        assert_eq!(buckets_for("ec2", "CreateNatGateway"), ["ec2:mutating", "ec2:CreateNatGateway"]);
        assert_eq!(buckets_for("ec2", "DescribeVpcs"), ["ec2:read"]);
        assert_eq!(buckets_for("apigateway", "CreateDeployment"), ["apigateway", "apigateway:CreateDeployment"]);
        assert!(buckets_for("kms", "CreateKey").is_empty());
    }

    /// 56 calls at once: the EC2 mutating bucket lets 50 through, then 5 a second.
    #[tokio::test(start_paused = true)]
    async fn a_burst_is_paced_to_the_published_rate() {
        let limiter = Arc::new(Limiter::default());
        let start = tokio::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..56 {
            let l = limiter.clone();
            set.spawn(async move {
                l.acquire(&["ec2:mutating"]).await;
                tokio::time::Instant::now()
            });
        }
        let mut times: Vec<Duration> = set.join_all().await.into_iter().map(|t| t - start).collect();
        times.sort();
        assert_eq!(times[49], Duration::ZERO, "the burst of 50 goes at once");
        // The 6 after it come at 0.2 s intervals: the last at 1.2 s, none sooner than the rate allows.
        let last = times[55].as_secs_f64();
        assert!((1.19..1.3).contains(&last), "{last}");
    }

    /// A thousand EC2 creates at once, three mutating calls each: behind the admission gate no
    /// call waits for its token anywhere near the attempt's 30 s (without it the last waits
    /// about 590 s), and the gate costs no throughput: they finish when the 5/s rate allows.
    #[tokio::test(start_paused = true)]
    async fn admission_keeps_each_calls_wait_for_tokens_short() {
        let (limiter, admission) = (Arc::new(Limiter::default()), Arc::new(Admission::default()));
        let start = tokio::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..1000 {
            let (l, a) = (limiter.clone(), admission.clone());
            set.spawn(async move {
                let _turn = a.enter("ec2:Subnet").await;
                let mut longest = Duration::ZERO;
                for _ in 0..3 {
                    let asked = tokio::time::Instant::now();
                    l.acquire(&["ec2:mutating"]).await;
                    longest = longest.max(asked.elapsed());
                }
                longest
            });
        }
        let longest = set.join_all().await.into_iter().max().unwrap_or_default();
        assert!(longest < Duration::from_secs(15), "a call waited {longest:?} for its token");
        // 3,000 tokens: 50 at once, then 5 a second.
        let took = start.elapsed().as_secs_f64();
        assert!((589.0..592.0).contains(&took), "{took}");
        // Services without a published rate have no gate.
        assert!(admission.enter("kms:Key").await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn deployments_are_spaced_five_seconds_apart() {
        let limiter = Limiter::default();
        let start = tokio::time::Instant::now();
        limiter.acquire(&buckets_for("apigateway", "CreateDeployment")).await;
        limiter.acquire(&buckets_for("apigateway", "CreateDeployment")).await;
        let took = start.elapsed().as_secs_f64();
        assert!((4.99..5.1).contains(&took), "{took}");
    }
}

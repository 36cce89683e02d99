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
    /// Waits until each named bucket has a token, then takes them.
    pub async fn acquire(&self, names: &[&'static str]) {
        for name in names {
            loop {
                let wait = self.try_take(name, tokio::time::Instant::now());
                match wait {
                    None => break,
                    Some(d) => tokio::time::sleep(d).await,
                }
            }
        }
    }

    /// Takes a token now, or says how long until one is there.
    fn try_take(&self, name: &'static str, now: tokio::time::Instant) -> Option<Duration> {
        let b = bucket(name);
        if !b.rate.is_finite() {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = state.entry(name).or_insert((b.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * b.rate).min(b.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - *tokens) / b.rate))
        }
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

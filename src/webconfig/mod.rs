//! `--web.config.file`: Prometheus exporter-toolkit's web configuration
//! (TLS, basic auth, response headers, rate limit) read unchanged, validated
//! with file:line:column errors, and re-read when it or a file it names
//! changes (a broken new version keeps the old one, logged and counted).
//!
//! The format is exporter-toolkit's `docs/web-configuration.md`: a
//! node_exporter web config works as is. What vigie cannot honour (TLS 1.0
//! and 1.1 as the highest version, the P-521 curve, CBC or RSA-key-exchange
//! cipher suites, e-mail or URI SANs) is an error, never silently dropped;
//! a key the format does not have is an error too.

mod auth;
mod tls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_saphyr::Spanned;

pub use auth::{Auth, RateLimiter, Verdict};

/// A web config file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct WebConfigError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    tls_server_config: Option<Spanned<RawTls>>,
    #[serde(default)]
    http_server_config: Option<RawHttp>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    rate_limit: Option<Spanned<RawRateLimit>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    client_auth_type: Option<Spanned<String>>,
    client_ca_file: Option<Spanned<String>>,
    client_allowed_sans: Option<Vec<Spanned<String>>>,
    min_version: Option<Spanned<String>>,
    max_version: Option<Spanned<String>>,
    cipher_suites: Option<Vec<Spanned<String>>>,
    prefer_server_cipher_suites: Option<bool>,
    curve_preferences: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    /// vigie speaks HTTP/1.1 only and offers no HTTP/2 in ALPN, so clients
    /// fall back to HTTP/1.1 whatever this says; accepted for compatibility.
    #[allow(dead_code)]
    http2: Option<bool>,
    headers: Option<BTreeMap<String, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    interval: Option<Spanned<String>>,
    burst: Option<u32>,
}

/// The headers exporter-toolkit lets a web config add, with the values it
/// accepts (any when empty).
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// A loaded, valid web config.
pub struct WebConfig {
    /// The TLS server configuration, when `tls_server_config` is set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Basic-auth users (none: no authentication).
    pub auth: Auth,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `rate_limit`: one request per `interval`, bursts of `burst`.
    pub rate_limit: Option<RateLimiter>,
    /// Things accepted but narrowed (e.g. `min_version: TLS10` serves
    /// TLS 1.2 and later), logged at load.
    pub notes: Vec<String>,
    /// The files this config was built from (itself first): a change to
    /// any of them triggers a reload.
    files: Vec<PathBuf>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.auth.len())
            .field("headers", &self.headers)
            .field("rate_limit", &self.rate_limit.is_some())
            .finish()
    }
}

struct At<'a> {
    file: &'a str,
}

impl At<'_> {
    fn err(&self, loc: serde_saphyr::Location, message: impl Into<String>) -> WebConfigError {
        WebConfigError {
            file: self.file.to_string(),
            line: loc.line().max(1),
            column: loc.column().max(1),
            message: message.into(),
        }
    }
    fn whole(&self, message: impl Into<String>) -> WebConfigError {
        WebConfigError {
            file: self.file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl WebConfig {
    /// Reads and validates `path` (relative file names in it are relative
    /// to its directory, as in exporter-toolkit).
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let file = path.display().to_string();
        let at = At { file: &file };
        let text = std::fs::read_to_string(path)
            .map_err(|e| at.whole(format!("cannot read the web config file: {e}")))?;
        Self::parse(&text, path)
    }

    /// Validates `text`, read from `source`.
    pub fn parse(text: &str, source: &Path) -> Result<WebConfig, WebConfigError> {
        let file = source.display().to_string();
        let at = At { file: &file };
        let dir = source.parent().unwrap_or(Path::new("."));
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let loc = e.location();
                let msg = e.without_snippet().to_string();
                let msg = match msg.rfind(" at line ") {
                    Some(i) if msg[i..].contains(", column ") => msg[..i].to_string(),
                    _ => msg,
                };
                WebConfigError {
                    file: file.clone(),
                    line: loc.map_or(1, |l| l.line().max(1)),
                    column: loc.map_or(1, |l| l.column().max(1)),
                    message: format!(
                        "{msg} (the format is Prometheus exporter-toolkit's web configuration: \
                         tls_server_config, http_server_config, basic_auth_users, rate_limit)"
                    ),
                }
            })?
        };
        let mut notes = Vec::new();
        let mut files = vec![source.to_path_buf()];
        let tls = match &raw.tls_server_config {
            Some(t) if tls::enabled(&t.value) => Some(tls::build(
                &t.value,
                t.referenced,
                dir,
                &at,
                &mut notes,
                &mut files,
            )?),
            _ => None,
        };
        let mut headers = Vec::new();
        if let Some(h) = raw
            .http_server_config
            .as_ref()
            .and_then(|h| h.headers.as_ref())
        {
            for (name, value) in h {
                let Some((canonical, allowed)) = ALLOWED_HEADERS
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                else {
                    let names: Vec<&str> = ALLOWED_HEADERS.iter().map(|(n, _)| *n).collect();
                    return Err(at.err(
                        value.referenced,
                        format!(
                            "HTTP header {name:?} can not be configured; expected one of {}",
                            names.join(", ")
                        ),
                    ));
                };
                if value.value.is_empty() {
                    continue; // "Unset if blank."
                }
                if !allowed.is_empty() && !allowed.contains(&value.value.as_str()) {
                    return Err(at.err(
                        value.referenced,
                        format!(
                            "invalid value for {canonical}: expected one of {allowed:?}, got {:?}",
                            value.value
                        ),
                    ));
                }
                let v = HeaderValue::from_str(&value.value).map_err(|_| {
                    at.err(
                        value.referenced,
                        format!("{canonical}: not a valid header value"),
                    )
                })?;
                headers.push((HeaderName::from_static_lower(canonical), v));
            }
        }
        let mut users = BTreeMap::new();
        for (user, hash) in raw.basic_auth_users.iter().flatten() {
            hash.value.parse::<bcrypt::HashParts>().map_err(|e| {
                at.err(
                    hash.referenced,
                    format!(
                        "basic_auth_users: the password of {user:?} is not a bcrypt hash ({e}); \
                         make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'"
                    ),
                )
            })?;
            users.insert(user.clone(), hash.value.clone());
        }
        let rate_limit = match &raw.rate_limit {
            None => None,
            Some(r) => {
                let interval = match &r.value.interval {
                    None => Duration::ZERO,
                    Some(i) if i.value.trim() == "0" => Duration::ZERO,
                    Some(i) => crate::units::parse_duration(&i.value)
                        .map_err(|e| at.err(i.referenced, format!("rate_limit.interval: {e}")))?,
                };
                let burst = r.value.burst.unwrap_or(0);
                if interval.is_zero() {
                    None
                } else if burst == 0 {
                    return Err(at.err(
                        r.referenced,
                        "rate_limit: burst must be at least 1 when interval is set \
                         (0 would refuse every request)",
                    ));
                } else {
                    Some(RateLimiter::new(interval, burst))
                }
            }
        };
        Ok(WebConfig {
            tls,
            auth: Auth::new(users),
            headers,
            rate_limit,
            notes,
            files,
        })
    }
}

/// What a header name becomes once lower-cased (HeaderName wants that).
trait FromStaticLower {
    fn from_static_lower(s: &'static str) -> HeaderName;
}

impl FromStaticLower for HeaderName {
    fn from_static_lower(s: &'static str) -> HeaderName {
        HeaderName::from_bytes(s.to_ascii_lowercase().as_bytes()).expect("a valid header name")
    }
}

/// Identifies one version of a set of files: a change to any (content
/// rewritten, renamed over, removed) changes it.
type Fingerprint = Vec<Option<(SystemTime, u64, u64, u64)>>;

fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    use std::os::unix::fs::MetadataExt;
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f).ok().map(|m| {
                (
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    m.len(),
                    m.ino(),
                    m.dev(),
                )
            })
        })
        .collect()
}

/// The web config in force, re-read when its files change.
pub struct Watched {
    path: PathBuf,
    state: Mutex<WatchState>,
    /// 1 if the last reload attempt succeeded (f64 bits).
    last_ok: AtomicU64,
    /// Unix time of the last successful load (f64 bits).
    last_success: AtomicU64,
    failures: AtomicU64,
}

struct WatchState {
    current: Arc<WebConfig>,
    /// The files of the last attempt and their fingerprint then.
    files: Vec<PathBuf>,
    seen: Fingerprint,
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Watched {
    /// Loads `path`; an unusable file at start is an error (vigie does not
    /// start without the protection it was asked for).
    pub fn new(path: &Path) -> Result<Watched, WebConfigError> {
        let config = WebConfig::load(path)?;
        for n in &config.notes {
            log::warn!("{}: {n}", path.display());
        }
        let files = config.files.clone();
        let seen = fingerprint(&files);
        Ok(Watched {
            path: path.to_path_buf(),
            state: Mutex::new(WatchState {
                current: Arc::new(config),
                files,
                seen,
            }),
            last_ok: AtomicU64::new(1f64.to_bits()),
            last_success: AtomicU64::new(now_unix().to_bits()),
            failures: AtomicU64::new(0),
        })
    }

    /// The config in force, after re-reading the files if any changed
    /// since the last look (a few `stat` calls when nothing did).
    pub fn current(&self) -> Arc<WebConfig> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = fingerprint(&st.files);
        if now != st.seen {
            self.reload_locked(&mut st, "changed");
        }
        st.current.clone()
    }

    /// Re-reads the file now (SIGHUP).
    pub fn reload(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.reload_locked(&mut st, "SIGHUP");
    }

    fn reload_locked(&self, st: &mut WatchState, why: &str) {
        let tls_before = st.current.tls.is_some();
        let result = WebConfig::load(&self.path).and_then(|c| {
            if c.tls.is_some() != tls_before {
                Err(WebConfigError {
                    file: self.path.display().to_string(),
                    line: 0,
                    column: 0,
                    message: "turning TLS on or off needs a restart of vigie".into(),
                })
            } else {
                Ok(c)
            }
        });
        match result {
            Ok(c) => {
                log::info!("web config {} {why}: reloaded", self.path.display());
                for n in &c.notes {
                    log::warn!("{}: {n}", self.path.display());
                }
                st.files = c.files.clone();
                st.seen = fingerprint(&st.files);
                st.current = Arc::new(c);
                self.last_ok.store(1f64.to_bits(), Ordering::Relaxed);
                self.last_success
                    .store(now_unix().to_bits(), Ordering::Relaxed);
            }
            Err(e) => {
                log::error!("web config {why} but cannot be used, keeping the previous one: {e}");
                // Watch the config file itself as well as what the last good
                // one named, so that a fix is picked up.
                if !st.files.contains(&self.path) {
                    st.files.insert(0, self.path.clone());
                }
                st.seen = fingerprint(&st.files);
                self.last_ok.store(0f64.to_bits(), Ordering::Relaxed);
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// 1 if the last reload succeeded, else 0.
    pub fn last_reload_successful(&self) -> f64 {
        f64::from_bits(self.last_ok.load(Ordering::Relaxed))
    }

    /// Unix time of the last successful load.
    pub fn last_reload_success_timestamp(&self) -> f64 {
        f64::from_bits(self.last_success.load(Ordering::Relaxed))
    }

    /// Failed reloads since start.
    pub fn reload_failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

//! `basic_auth_users`: HTTP basic authentication against bcrypt hashes, as
//! exporter-toolkit does it: an unknown user costs a bcrypt run too, bcrypt
//! runs one at a time off the async threads, and verdicts are cached (keyed
//! by a SHA-256 of user, hash and password, never the password itself) so
//! that a scrape every 15 s does not pay ~70 ms of bcrypt each time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use base64::Engine;
use hyper::header::HeaderValue;

/// A bcrypt hash of a random password, checked when the user is unknown so
/// that the answer takes as long as for a known user.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Verdicts kept at most; the cache is emptied when full (a flood of wrong
/// passwords cannot grow memory).
const CACHE_MAX: usize = 1024;

/// What [`Auth::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No user is configured: no authentication.
    Open,
    Allowed,
    /// Missing or wrong credentials: 401.
    Denied,
}

/// The users of one loaded web config and their verified-password cache.
pub struct Auth {
    users: BTreeMap<String, String>,
    cache: Mutex<HashMap<[u8; 32], bool>>,
    bcrypt: tokio::sync::Mutex<()>,
}

impl Auth {
    pub fn new(users: BTreeMap<String, String>) -> Auth {
        Auth {
            users,
            cache: Mutex::new(HashMap::new()),
            bcrypt: tokio::sync::Mutex::new(()),
        }
    }

    /// How many users are configured.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Checks an `Authorization` header.
    pub async fn check(&self, header: Option<&HeaderValue>) -> Verdict {
        if self.users.is_empty() {
            return Verdict::Open;
        }
        let Some((user, pass)) = header.and_then(parse_basic) else {
            return Verdict::Denied;
        };
        let known = self.users.get(&user);
        let hash = known.map_or(DUMMY_HASH, String::as_str).to_string();
        let key = cache_key(&user, &hash, &pass);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .copied();
        let ok = match cached {
            Some(ok) => ok,
            None => {
                let _one_at_a_time = self.bcrypt.lock().await;
                // bcrypt compares in constant time (subtle).
                let verified = tokio::task::spawn_blocking(move || {
                    bcrypt::verify(pass.as_bytes(), &hash).unwrap_or(false)
                })
                .await
                .unwrap_or(false);
                let ok = known.is_some() && verified;
                let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
                cache.insert(key, ok);
                ok
            }
        };
        if ok {
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }
}

fn cache_key(user: &str, hash: &str, pass: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, hash, pass] {
        ctx.update(&(part.len() as u64).to_le_bytes());
        ctx.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `Basic base64(user:password)`.
fn parse_basic(h: &HeaderValue) -> Option<(String, String)> {
    let s = h.to_str().ok()?;
    let (scheme, rest) = s.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// `rate_limit`: a token bucket of `burst` tokens, one added per `interval`.
pub struct RateLimiter {
    interval: std::time::Duration,
    burst: f64,
    state: Mutex<(f64, std::time::Instant)>,
}

impl RateLimiter {
    pub fn new(interval: std::time::Duration, burst: u32) -> RateLimiter {
        RateLimiter {
            interval,
            burst: f64::from(burst),
            state: Mutex::new((f64::from(burst), std::time::Instant::now())),
        }
    }

    /// Takes a token if there is one.
    pub fn allow(&self) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        let added = now.duration_since(st.1).as_secs_f64() / self.interval.as_secs_f64();
        st.0 = (st.0 + added).min(self.burst);
        st.1 = now;
        if st.0 >= 1.0 {
            st.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pass: &str) -> HeaderValue {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        HeaderValue::from_str(&format!("Basic {b}")).unwrap()
    }

    #[tokio::test]
    async fn right_password_passes_wrong_or_unknown_is_denied_and_verdicts_are_cached() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let auth = Auth::new(BTreeMap::from([("prom".to_string(), hash)]));
        assert_eq!(
            auth.check(Some(&basic("prom", "s3cret"))).await,
            Verdict::Allowed
        );
        assert_eq!(
            auth.check(Some(&basic("prom", "wrong"))).await,
            Verdict::Denied
        );
        assert_eq!(
            auth.check(Some(&basic("eve", "s3cret"))).await,
            Verdict::Denied
        );
        assert_eq!(auth.check(None).await, Verdict::Denied);
        assert_eq!(
            auth.check(Some(&HeaderValue::from_static("Bearer x")))
                .await,
            Verdict::Denied
        );
        assert_eq!(auth.cache.lock().unwrap().len(), 3);
        // Cached: the second check does not run bcrypt (held lock would block).
        let _held = auth.bcrypt.lock().await;
        assert_eq!(
            auth.check(Some(&basic("prom", "s3cret"))).await,
            Verdict::Allowed
        );
    }

    #[test]
    fn rate_limiter_allows_a_burst_then_refuses() {
        let r = RateLimiter::new(std::time::Duration::from_secs(3600), 2);
        assert!(r.allow());
        assert!(r.allow());
        assert!(!r.allow());
    }
}

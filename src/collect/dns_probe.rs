//! One DNS query to one resolver, timed: the resolver's own answer, not a
//! cached one. Messages are built and parsed by hickory-proto; this file only
//! moves them: UDP first (EDNS, 1232-byte payload), TCP when the answer comes
//! back truncated, all within one deadline.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout_at;

/// A query to send: name, record type, and what counts as a healthy answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsQuery {
    pub name: String,
    pub rtype: RecordType,
    pub expect: Expect,
}

/// What counts as a healthy answer to a query (`=EXPECT` in the flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Expect {
    /// NOERROR with at least one record in the answer section (`records`,
    /// the default): the name exists and has records of this type.
    #[default]
    Records,
    /// NOERROR, with records or not (`noerror`).
    NoError,
    /// This response code and no other (`NXDOMAIN` for a name that must
    /// not exist, say): the code's number.
    Rcode(u16),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Records => f.write_str("records"),
            Expect::NoError => f.write_str("noerror"),
            Expect::Rcode(c) => f.write_str(&rcode_name(ResponseCode::from_low(*c as u8))),
        }
    }
}

impl std::str::FromStr for Expect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let rcodes = [
            ResponseCode::NoError,
            ResponseCode::FormErr,
            ResponseCode::ServFail,
            ResponseCode::NXDomain,
            ResponseCode::NotImp,
            ResponseCode::Refused,
        ];
        match s.to_ascii_lowercase().as_str() {
            "records" => Ok(Expect::Records),
            "noerror" => Ok(Expect::NoError),
            other => rcodes
                .iter()
                .find(|c| rcode_name(**c).eq_ignore_ascii_case(other))
                .map(|c| Expect::Rcode(u16::from(*c)))
                .ok_or_else(|| {
                    format!(
                        "{s:?} is not an expectation: records (NOERROR with a record, the default), \
                         noerror, or a response code (NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP)"
                    )
                }),
        }
    }
}

impl std::str::FromStr for DnsQuery {
    type Err = String;

    /// `NAME[:TYPE][=EXPECT]` (A and `records` by default), e.g.
    /// `example.org:MX`, `.:NS`, `nonexistent.example.org:A=NXDOMAIN`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (s, expect) = match s.rsplit_once('=') {
            Some((q, e)) => (q, e.parse()?),
            None => (s, Expect::default()),
        };
        let (name, rtype) = match s.rsplit_once(':') {
            Some((n, t)) => (n, t),
            None => (s, "A"),
        };
        let rtype: RecordType = rtype.to_ascii_uppercase().parse().map_err(|_| {
            format!("{rtype:?} is not a DNS record type (A, AAAA, MX, NS, TXT, SOA...)")
        })?;
        if name.is_empty() {
            return Err("the name is empty (the root is \".\")".into());
        }
        Name::from_ascii(name).map_err(|e| format!("{name:?} is not a DNS name: {e}"))?;
        Ok(DnsQuery {
            name: name.to_string(),
            rtype,
            expect,
        })
    }
}

impl std::fmt::Display for DnsQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.rtype)?;
        if self.expect != Expect::default() {
            write!(f, "={}", self.expect)?;
        }
        Ok(())
    }
}

/// What a probe's outcome says of the resolver, for people and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// The answer the query expects.
    Ok,
    /// No answer: timeout or network error. The resolver is down or
    /// unreachable.
    NoAnswer,
    /// An error answer (SERVFAIL, REFUSED, NOTIMP, FORMERR...): the
    /// resolver is up but cannot or will not resolve.
    ErrorAnswer,
    /// A wrong answer: NXDOMAIN for a name that must exist, NOERROR with
    /// no record, an answer to another question (malformed), or any code
    /// other than the one the query expects.
    WrongAnswer,
}

impl Class {
    /// The `class` label.
    pub fn label(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::NoAnswer => "no_answer",
            Class::ErrorAnswer => "error_answer",
            Class::WrongAnswer => "wrong_answer",
        }
    }
}

/// How a probe ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The resolver answered (any response code).
    Answer {
        rcode: ResponseCode,
        answers: usize,
        /// The UDP answer was truncated and the TCP retry answered.
        over_tcp: bool,
    },
    /// No answer before the deadline.
    Timeout,
    /// The network refused (port unreachable, no route, connection reset).
    Network(String),
    /// The resolver sent something that is not a DNS answer to our query.
    Malformed(String),
}

impl Outcome {
    /// The `result` label: the response code (`NOERROR`, `NXDOMAIN`,
    /// `SERVFAIL`, `REFUSED`...) or `timeout`, `network_error`, `malformed`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Answer { rcode, .. } => rcode_name(*rcode),
            Outcome::Timeout => "timeout".into(),
            Outcome::Network(_) => "network_error".into(),
            Outcome::Malformed(_) => "malformed".into(),
        }
    }

    /// What the outcome says, for a query expecting `expect`.
    pub fn class(&self, expect: Expect) -> Class {
        match self {
            Outcome::Timeout | Outcome::Network(_) => Class::NoAnswer,
            Outcome::Malformed(_) => Class::WrongAnswer,
            Outcome::Answer { rcode, answers, .. } => {
                let code = u16::from(*rcode);
                let healthy = match expect {
                    Expect::Records => *rcode == ResponseCode::NoError && *answers > 0,
                    Expect::NoError => *rcode == ResponseCode::NoError,
                    Expect::Rcode(c) => code == c,
                };
                match *rcode {
                    _ if healthy => Class::Ok,
                    ResponseCode::NoError | ResponseCode::NXDomain => Class::WrongAnswer,
                    // Another code than the expected error code is wrong,
                    // whatever it is.
                    _ if matches!(expect, Expect::Rcode(_)) => Class::WrongAnswer,
                    _ => Class::ErrorAnswer,
                }
            }
        }
    }

    /// The `result` of `vigie_dns_probe_last_result`: [`Outcome::label`],
    /// except `NODATA` for NOERROR without a record.
    pub fn result(&self) -> String {
        match self {
            Outcome::Answer {
                rcode: ResponseCode::NoError,
                answers: 0,
                ..
            } => "NODATA".into(),
            o => o.label(),
        }
    }

    /// The resolver answered NOERROR (whatever the query expects: see
    /// [`Outcome::class`]).
    pub fn success(&self) -> bool {
        matches!(
            self,
            Outcome::Answer {
                rcode: ResponseCode::NoError,
                ..
            }
        )
    }
}

/// `NOERROR`, `SERVFAIL`, ... as dig prints them.
pub fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// A random message id (the standard library's per-instance random keys;
/// unpredictability matters little for a health probe, uniqueness does).
fn random_id() -> u16 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() as u16
}

fn build_query(q: &DnsQuery, id: u16) -> Result<Vec<u8>, String> {
    let name = Name::from_ascii(&q.name).map_err(|e| e.to_string())?;
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, q.rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    msg.set_edns(edns);
    msg.to_vec().map_err(|e| e.to_string())
}

/// Sends `query` to `resolver` and waits at most `timeout` in all.
/// Returns the outcome and how long it took.
pub async fn probe(
    resolver: SocketAddr,
    query: &DnsQuery,
    timeout: Duration,
) -> (Outcome, Duration) {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let outcome = match timeout_at(deadline, exchange(resolver, query, deadline)).await {
        Ok(o) => o,
        Err(_) => Outcome::Timeout,
    };
    (outcome, start.elapsed())
}

async fn exchange(
    resolver: SocketAddr,
    query: &DnsQuery,
    deadline: tokio::time::Instant,
) -> Outcome {
    let id = random_id();
    let wire = match build_query(query, id) {
        Ok(w) => w,
        Err(e) => return Outcome::Malformed(format!("cannot build the query: {e}")),
    };
    let local: SocketAddr = if resolver.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let sock = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return Outcome::Network(format!("bind: {e}")),
    };
    // A connected socket only receives datagrams from the resolver itself.
    if let Err(e) = sock.connect(resolver).await {
        return Outcome::Network(format!("connect: {e}"));
    }
    if let Err(e) = sock.send(&wire).await {
        return Outcome::Network(format!("send: {e}"));
    }
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match sock.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => return Outcome::Network(format!("receive: {e}")),
        };
        let msg = match Message::from_vec(&buf[..n]) {
            Ok(m) => m,
            Err(e) => return Outcome::Malformed(format!("{n}-byte answer does not parse: {e}")),
        };
        if msg.id() != id || msg.message_type() != MessageType::Response {
            // A late answer to an earlier query, or noise: keep waiting.
            continue;
        }
        if let Some(e) = other_question(&msg, query) {
            return Outcome::Malformed(e);
        }
        if msg.truncated() {
            return over_tcp(resolver, query, &wire, id, deadline).await;
        }
        return Outcome::Answer {
            rcode: msg.response_code(),
            answers: msg.answers().len(),
            over_tcp: false,
        };
    }
}

/// Why an answer is not an answer to `query`, if it is not: its question
/// section must be the question asked (name, type, class IN). An answer
/// without a question is only accepted with an error code (some servers
/// drop it when refusing); a NOERROR for another name is no success.
fn other_question(msg: &Message, query: &DnsQuery) -> Option<String> {
    let same = |q: &Query| {
        q.query_type() == query.rtype
            && q.query_class() == DNSClass::IN
            && q.name()
                .to_ascii()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(query.name.trim_end_matches('.'))
    };
    match msg.queries() {
        [q] if same(q) => None,
        [] if msg.response_code() != ResponseCode::NoError => None,
        [] => Some("NOERROR answer without a question section".into()),
        qs => Some(format!(
            "answer to another question ({}) than {query}",
            qs.iter()
                .map(|q| format!("{}:{}", q.name(), q.query_type()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// RFC 7766: the same query over TCP, with a two-byte length prefix.
async fn over_tcp(
    resolver: SocketAddr,
    query: &DnsQuery,
    wire: &[u8],
    id: u16,
    deadline: tokio::time::Instant,
) -> Outcome {
    let attempt = async {
        let mut s = TcpStream::connect(resolver).await?;
        let len = u16::try_from(wire.len()).map_err(std::io::Error::other)?;
        let mut framed = Vec::with_capacity(wire.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(wire);
        s.write_all(&framed).await?;
        let n = s.read_u16().await? as usize;
        let mut body = vec![0u8; n];
        s.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>(body)
    };
    let body = match timeout_at(deadline, attempt).await {
        Err(_) => return Outcome::Timeout,
        Ok(Err(e)) => return Outcome::Network(format!("TCP retry after a truncated answer: {e}")),
        Ok(Ok(b)) => b,
    };
    match Message::from_vec(&body) {
        Ok(m) if m.id() == id => match other_question(&m, query) {
            Some(e) => Outcome::Malformed(e),
            None => Outcome::Answer {
                rcode: m.response_code(),
                answers: m.answers().len(),
                over_tcp: true,
            },
        },
        Ok(_) => Outcome::Malformed("TCP answer with another id".into()),
        Err(e) => Outcome::Malformed(format!("TCP answer does not parse: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax() {
        let q: DnsQuery = "example.org:mx".parse().unwrap();
        assert_eq!(q.rtype, RecordType::MX);
        assert_eq!(q.to_string(), "example.org:MX");
        let q: DnsQuery = "example.org".parse().unwrap();
        assert_eq!(q.rtype, RecordType::A);
        assert!(
            "example.org:BOGUS"
                .parse::<DnsQuery>()
                .unwrap_err()
                .contains("record type")
        );
        assert!(":A".parse::<DnsQuery>().is_err());
        let q: DnsQuery = ".:NS".parse().unwrap();
        assert_eq!(
            (q.name.as_str(), q.rtype, q.expect),
            (".", RecordType::NS, Expect::Records)
        );
        let q: DnsQuery = "gone.example.org=nxdomain".parse().unwrap();
        assert_eq!(q.expect, Expect::Rcode(3));
        assert_eq!(q.to_string(), "gone.example.org:A=NXDOMAIN");
        let q: DnsQuery = "example.org:TXT=noerror".parse().unwrap();
        assert_eq!(q.expect, Expect::NoError);
        assert!(
            "example.org=maybe"
                .parse::<DnsQuery>()
                .unwrap_err()
                .contains("not an expectation")
        );
    }

    #[test]
    fn classes() {
        let a = |rcode, answers| Outcome::Answer {
            rcode,
            answers,
            over_tcp: false,
        };
        use Class::*;
        use ResponseCode::*;
        let cases = [
            (a(NoError, 2), Expect::Records, Ok, "NOERROR"),
            (a(NoError, 0), Expect::Records, WrongAnswer, "NODATA"),
            (a(NoError, 0), Expect::NoError, Ok, "NODATA"),
            (a(NXDomain, 0), Expect::Records, WrongAnswer, "NXDOMAIN"),
            (a(NXDomain, 0), Expect::Rcode(3), Ok, "NXDOMAIN"),
            (a(NoError, 1), Expect::Rcode(3), WrongAnswer, "NOERROR"),
            (a(ServFail, 0), Expect::Records, ErrorAnswer, "SERVFAIL"),
            (a(Refused, 0), Expect::NoError, ErrorAnswer, "REFUSED"),
            (a(ServFail, 0), Expect::Rcode(3), WrongAnswer, "SERVFAIL"),
            (Outcome::Timeout, Expect::Records, NoAnswer, "timeout"),
            (
                Outcome::Network("x".into()),
                Expect::Records,
                NoAnswer,
                "network_error",
            ),
            (
                Outcome::Malformed("x".into()),
                Expect::Records,
                WrongAnswer,
                "malformed",
            ),
        ];
        for (o, e, class, result) in cases {
            assert_eq!(
                (o.class(e), o.result().as_str()),
                (class, result),
                "{o:?} {e:?}"
            );
        }
    }

    #[test]
    fn labels() {
        assert_eq!(Outcome::Timeout.label(), "timeout");
        let a = Outcome::Answer {
            rcode: ResponseCode::NXDomain,
            answers: 0,
            over_tcp: false,
        };
        assert_eq!(a.label(), "NXDOMAIN");
        assert!(!a.success());
        assert_eq!(rcode_name(ResponseCode::Unknown(3841)), "RCODE3841");
    }
}

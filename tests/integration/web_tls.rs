//! `--web.config.file` (exporter-toolkit's format) on the real binary:
//! real Prometheus scraping over TLS with a client certificate and basic
//! auth; a wrong password (401), a client without a certificate, a
//! plaintext client, a changed and a broken file; node_exporter's sample
//! config accepted unchanged. Certificates are made with the openssl CLI.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::common::{Vigie, value};
use crate::prometheus::Prometheus;

/// A CA, a server certificate for 127.0.0.1 and a client certificate
/// (SAN DNS:prometheus) signed by it, in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("the openssl CLI must be installed");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=vigie test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        for (name, san, usage) in [
            ("server", "IP:127.0.0.1,DNS:localhost", "serverAuth"),
            ("client", "DNS:prometheus", "clientAuth"),
        ] {
            run(&[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat());
            std::fs::write(
                dir.path().join(format!("{name}.ext")),
                format!(
                    "subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
                ),
            )
            .unwrap();
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `web.yml` next to the certificates.
    fn web_config(&self, text: &str) -> PathBuf {
        let p = self.path("web.yml");
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A bcrypt hash made the way htpasswd -B does (cost 4 keeps tests fast).
fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// What a TLS client got: the status and body, or why the exchange failed.
fn tls_get(
    addr: SocketAddr,
    pki: &Pki,
    client_cert: bool,
    auth: Option<(&str, &str)>,
    path: &str,
) -> Result<(u16, String, String), String> {
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    for c in rustls_pki_types::CertificateDer::pem_file_iter(pki.path("ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if client_cert {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(pki.path("client.crt"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(pki.path("client.key")).unwrap();
        builder.with_client_auth_cert(certs, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some((u, p)) = auth {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        req.push_str(&format!("Authorization: Basic {b}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        // A server that closes without close_notify after a full answer.
        Err(e) if !out.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((status, head.to_string(), body.to_string()))
}

fn tls_config(client_auth: &str, users: &str) -> String {
    format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  \
         client_auth_type: {client_auth}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n\
         basic_auth_users:\n{users}",
    )
}

fn start(config: &Path) -> Vigie {
    Vigie::start(&[
        &format!("--web.config.file={}", config.display()),
        "--no-collector.smart",
        "--no-collector.dns",
    ])
}

#[test]
fn prometheus_scrapes_over_tls_with_a_client_certificate_and_basic_auth() {
    let pki = Pki::new();
    let users = format!("  prometheus: {}\n", hash("s3cret"));
    let web = pki.web_config(&tls_config("RequireAndVerifyClientCert", &users));
    let v = start(&web);
    let prom_config = pki.path("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: vigie\n    scheme: https\n    \
             tls_config: {{ca_file: '{ca}', cert_file: '{crt}', key_file: '{key}'}}\n    \
             basic_auth: {{username: prometheus, password: s3cret}}\n    \
             static_configs: [{{targets: ['{addr}']}}]\n",
            ca = pki.path("ca.crt").display(),
            crt = pki.path("client.crt").display(),
            key = pki.path("client.key").display(),
            addr = v.addr,
        ),
    )
    .unwrap();
    let p = Prometheus::with_config(&prom_config);
    p.wait_for("up{job=\"vigie\"}", |r| r.len() == 1 && r[0].1 == 1.0);
    p.wait_for("vigie_build_info", |r| r.len() == 1);

    // The same with our own client: the right password, a wrong one.
    let (status, head, body) = tls_get(
        v.addr,
        &pki,
        true,
        Some(("prometheus", "s3cret")),
        "/metrics",
    )
    .unwrap();
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-frame-options: deny"),
        "{head}"
    );
    assert_eq!(
        value(&body, "vigie_web_config_last_reload_successful"),
        Some(1.0)
    );
    let (status, head, _) = tls_get(
        v.addr,
        &pki,
        true,
        Some(("prometheus", "wrong")),
        "/metrics",
    )
    .unwrap();
    assert_eq!(status, 401, "{head}");
    assert!(
        head.contains("WWW-Authenticate: Basic") || head.contains("www-authenticate: Basic"),
        "{head}"
    );
    let (status, _, _) =
        tls_get(v.addr, &pki, true, Some(("mallory", "s3cret")), "/metrics").unwrap();
    assert_eq!(status, 401);
    let (status, _, _) = tls_get(v.addr, &pki, true, None, "/metrics").unwrap();
    assert_eq!(status, 401);

    // No client certificate while one is required: no HTTP answer at all.
    let r = tls_get(
        v.addr,
        &pki,
        false,
        Some(("prometheus", "s3cret")),
        "/metrics",
    );
    assert!(r.is_err(), "{r:?}");

    // Plaintext HTTP on the TLS port: refused with Go's 400, never served.
    let mut s = TcpStream::connect(v.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.0 400"), "{out:?}");
    assert!(!out.contains("vigie_build_info"), "{out}");
}

#[test]
fn a_changed_file_applies_to_new_connections_and_a_broken_one_keeps_the_last_good() {
    let pki = Pki::new();
    let web = pki.web_config(&tls_config(
        "VerifyClientCertIfGiven",
        &format!("  a: {}\n", hash("one")),
    ));
    let v = start(&web);
    assert_eq!(
        tls_get(v.addr, &pki, false, Some(("a", "one")), "/")
            .unwrap()
            .0,
        200
    );

    // New password: the old one is refused from the next request on.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        &web,
        tls_config(
            "VerifyClientCertIfGiven",
            &format!("  a: {}\n", hash("two")),
        ),
    )
    .unwrap();
    assert_eq!(
        tls_get(v.addr, &pki, false, Some(("a", "one")), "/")
            .unwrap()
            .0,
        401
    );
    assert_eq!(
        tls_get(v.addr, &pki, false, Some(("a", "two")), "/")
            .unwrap()
            .0,
        200
    );

    // Broken: the previous version stays in force, logged and counted.
    std::fs::write(
        &web,
        "tls_server_config:\n  cert_file: server.crt\n  key_fil: server.key\n",
    )
    .unwrap();
    let (status, _, body) = tls_get(v.addr, &pki, false, Some(("a", "two")), "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        value(&body, "vigie_web_config_last_reload_successful"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "vigie_web_config_reload_failures_total"),
        Some(1.0),
        "{body}"
    );
    let log = v.wait_log(|l| l.contains("keeping the previous one"));
    let line = log
        .iter()
        .find(|l| l.contains("keeping the previous one"))
        .unwrap_or_else(|| panic!("{log:?}"));
    assert!(
        line.contains("web.yml:3:3: unknown field `key_fil`"),
        "{line}"
    );

    // Fixed, then SIGHUP: re-read at once and logged.
    std::fs::write(
        &web,
        tls_config(
            "VerifyClientCertIfGiven",
            &format!("  a: {}\n", hash("three")),
        ),
    )
    .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(v.child.id() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let log = v.wait_log(|l| l.contains("SIGHUP: reloaded"));
    assert!(
        log.iter().any(|l| l.contains("SIGHUP: reloaded")),
        "{log:?}"
    );
    let (status, _, body) = tls_get(v.addr, &pki, false, Some(("a", "three")), "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        value(&body, "vigie_web_config_last_reload_successful"),
        Some(1.0),
        "{body}"
    );
}

#[test]
fn exporter_toolkits_sample_config_is_accepted_unchanged() {
    // docs/web-config.yml of prometheus/exporter-toolkit, byte for byte
    // (what node_exporter users copy), next to a certificate and key.
    let pki = Pki::new();
    let sample = std::fs::read_to_string(crate::common::fixture(
        "web/exporter-toolkit-web-config.yml",
    ))
    .unwrap();
    let web = pki.web_config(&sample);
    let c = vigie::webconfig::WebConfig::load(&web).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.tls.is_some());
    assert_eq!(c.auth.len(), 2);
    assert!(c.rate_limit.is_some());
}

#[test]
fn unusable_web_configs_are_located_errors_and_vigie_does_not_start() {
    let pki = Pki::new();
    let cases: &[(&str, &str)] = &[
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Sometimes\n",
            "4:21: invalid ClientAuth: Sometimes",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n",
            "4:16: unknown TLS version",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  max_version: TLS11\n",
            "4:16: max_version TLS11",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [TLS_FOO]\n",
            "4:19: unknown cipher: TLS_FOO",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n",
            "client CA's have been configured without a Client Auth Policy",
        ),
        (
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
            "2:14: cert_file: cannot read",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
            "server.crt",
        ),
        (
            "basic_auth_users:\n  alice: hunter2\n",
            "2:10: basic_auth_users: the password of \"alice\" is not a bcrypt hash",
        ),
        (
            "http_server_config:\n  headers:\n    Server: vigie\n",
            "3:13: HTTP header \"Server\" can not be configured",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "invalid value for X-Frame-Options",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  unknown_key: 1\n",
            "4:3: unknown field `unknown_key`",
        ),
    ];
    for (text, want) in cases {
        let web = pki.web_config(text);
        let e = vigie::webconfig::WebConfig::load(&web)
            .expect_err(text)
            .to_string();
        assert!(e.starts_with(&web.display().to_string()), "{e}");
        assert!(e.contains(want), "{text}\n=> {e}\nwanted {want}");
    }
    // The binary refuses to start, naming the file.
    let web = pki.web_config(cases[0].0);
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args([
            "--web.listen-address=127.0.0.1:0",
            &format!("--web.config.file={}", web.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("web.yml:4:21: invalid ClientAuth"), "{err}");
}

#[test]
fn several_listen_addresses_are_all_served() {
    let a = crate::common::free_port();
    let b = crate::common::free_port();
    let v = Vigie::start(&[
        &format!("--web.listen-address=127.0.0.1:{a}"),
        &format!("--web.listen-address=127.0.0.1:{b}"),
        "--no-collector.smart",
        "--no-collector.dns",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    for port in [a, b] {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "{addr} not served");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(crate::common::get(addr, "/-/healthy").status, 200);
    }
    drop(v);
}

#[test]
fn systemd_socket_activation_serves_on_the_passed_socket() {
    // systemd-socket-activate (from systemd) binds the port and starts
    // vigie with LISTEN_FDS=1 and LISTEN_PID set, as a .socket unit does.
    let port = crate::common::free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = Command::new("systemd-socket-activate")
        .args([
            "-l",
            &addr.to_string(),
            env!("CARGO_BIN_EXE_vigie"),
            "--web.systemd-socket",
            "--no-collector.smart",
            "--no-collector.dns",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("systemd-socket-activate (package systemd)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} not bound");
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = crate::common::get(addr, "/-/healthy");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.status, 200);

    // Without the variables: a clear error, not a silent default port.
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["--web.systemd-socket"])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LISTEN_FDS"));
}

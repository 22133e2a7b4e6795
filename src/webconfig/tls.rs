//! `tls_server_config` turned into a rustls server configuration (ring
//! provider): certificates, versions, cipher suites, curves, client
//! certificate policy and allowed SANs, with exporter-toolkit's names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, ring as provider};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde_saphyr::{Location, Spanned};

use super::{At, RawTls, WebConfigError};

/// Whether the section asks for TLS at all (exporter-toolkit's IsEnabled).
pub(super) fn enabled(t: &RawTls) -> bool {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty());
    let set_s = |s: &Option<Spanned<String>>| s.as_ref().is_some_and(|v| !v.value.is_empty());
    set(&t.cert)
        || set(&t.key)
        || set(&t.client_ca)
        || set_s(&t.cert_file)
        || set_s(&t.key_file)
        || set_s(&t.client_ca_file)
        || set_s(&t.client_auth_type)
}

/// Go's cipher suite names (crypto/tls) and what vigie does with each:
/// Some(suite) served, None known to Go but not offered by rustls.
fn cipher(name: &str) -> Option<Option<rustls::SupportedCipherSuite>> {
    use provider::cipher_suite as c;
    Some(Some(match name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => c::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => c::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            c::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => c::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => c::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => {
            c::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        // TLS 1.3 suites: listed by Go's CipherSuites(), never configurable.
        "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256" => {
            return Some(None);
        }
        "TLS_RSA_WITH_RC4_128_SHA"
        | "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        | "TLS_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_RSA_WITH_AES_256_CBC_SHA"
        | "TLS_RSA_WITH_AES_128_CBC_SHA256"
        | "TLS_RSA_WITH_AES_128_GCM_SHA256"
        | "TLS_RSA_WITH_AES_256_GCM_SHA384"
        | "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_RC4_128_SHA"
        | "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" => return Some(None),
        _ => return None,
    }))
}

const TLS13_SUITE_NAMES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

fn version(v: &Spanned<String>, at: &At) -> Result<u8, WebConfigError> {
    match v.value.as_str() {
        "TLS10" => Ok(0),
        "TLS11" => Ok(1),
        "TLS12" => Ok(2),
        "TLS13" => Ok(3),
        other => Err(at.err(
            v.referenced,
            format!("unknown TLS version {other:?}; expected TLS10, TLS11, TLS12 or TLS13"),
        )),
    }
}

/// Resolves a file name of the config against its directory.
fn join(dir: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// The PEM bytes of an inline value or a file (which must not both be set).
fn pem_source(
    inline: Option<&String>,
    file: Option<&Spanned<String>>,
    what: &str,
    dir: &Path,
    at: &At,
    section: Location,
    files: &mut Vec<PathBuf>,
) -> Result<Option<(Vec<u8>, String, Location)>, WebConfigError> {
    let inline = inline.filter(|s| !s.is_empty());
    let file = file.filter(|f| !f.value.is_empty());
    match (inline, file) {
        (Some(_), Some(f)) => Err(at.err(
            f.referenced,
            format!("give {what} or {what}_file, not both"),
        )),
        (Some(text), None) => Ok(Some((
            text.as_bytes().to_vec(),
            format!("{what} (inline)"),
            section,
        ))),
        (None, Some(f)) => {
            let path = join(dir, &f.value);
            files.push(path.clone());
            let bytes = std::fs::read(&path).map_err(|e| {
                at.err(
                    f.referenced,
                    format!("{what}_file: cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(Some((
                bytes,
                format!("{what}_file {}", path.display()),
                f.referenced,
            )))
        }
        (None, None) => Ok(None),
    }
}

fn certificates(
    bytes: &[u8],
    what: &str,
    loc: Location,
    at: &At,
) -> Result<Vec<CertificateDer<'static>>, WebConfigError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| at.err(loc, format!("{what}: not a PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(at.err(loc, format!("{what}: no PEM certificate in it")));
    }
    Ok(certs)
}

pub(super) fn build(
    t: &RawTls,
    section: Location,
    dir: &Path,
    at: &At,
    notes: &mut Vec<String>,
    files: &mut Vec<PathBuf>,
) -> Result<Arc<rustls::ServerConfig>, WebConfigError> {
    let (cert_pem, cert_what, cert_loc) = pem_source(
        t.cert.as_ref(),
        t.cert_file.as_ref(),
        "cert",
        dir,
        at,
        section,
        files,
    )?
    .ok_or_else(|| {
        at.err(
            section,
            "tls_server_config: missing one of cert or cert_file",
        )
    })?;
    let (key_pem, key_what, key_loc) = pem_source(
        t.key.as_ref(),
        t.key_file.as_ref(),
        "key",
        dir,
        at,
        section,
        files,
    )?
    .ok_or_else(|| at.err(section, "tls_server_config: missing one of key or key_file"))?;
    let certs = certificates(&cert_pem, &cert_what, cert_loc, at)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        at.err(
            key_loc,
            format!("{key_what}: no usable PEM private key: {e}"),
        )
    })?;

    // Versions: rustls serves TLS 1.2 and 1.3 only.
    let min = t
        .min_version
        .as_ref()
        .map(|v| version(v, at))
        .transpose()?
        .unwrap_or(2);
    let max = t
        .max_version
        .as_ref()
        .map(|v| version(v, at))
        .transpose()?
        .unwrap_or(3);
    if let Some(v) = &t.max_version
        && max < 2
    {
        return Err(at.err(
            v.referenced,
            format!("max_version {}: vigie serves TLS 1.2 and 1.3 only (TLS 1.0 and 1.1 are obsolete); use TLS12 or TLS13", v.value),
        ));
    }
    if min > max {
        let loc = t.min_version.as_ref().map_or(section, |v| v.referenced);
        return Err(at.err(loc, "min_version is above max_version"));
    }
    if min < 2 {
        notes.push("min_version below TLS12: vigie serves TLS 1.2 and 1.3 only".into());
    }
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if min <= 2 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= 3 {
        versions.push(&rustls::version::TLS13);
    }

    let mut p: CryptoProvider = provider::default_provider();
    if let Some(list) = &t.cipher_suites
        && !list.is_empty()
    {
        let mut tls12 = Vec::new();
        let mut dropped = Vec::new();
        for name in list {
            match cipher(&name.value) {
                None => {
                    return Err(at.err(
                        name.referenced,
                        format!("unknown cipher: {} (Go's crypto/tls names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", name.value),
                    ));
                }
                Some(Some(s)) => {
                    if !tls12
                        .iter()
                        .any(|x: &rustls::SupportedCipherSuite| x.suite() == s.suite())
                    {
                        tls12.push(s);
                    }
                }
                Some(None) if TLS13_SUITE_NAMES.contains(&name.value.as_str()) => {}
                Some(None) => dropped.push(name.value.clone()),
            }
        }
        if !dropped.is_empty() {
            notes.push(format!(
                "cipher_suites: not offered (no CBC, RC4, 3DES or RSA key exchange in vigie's TLS library): {}",
                dropped.join(", ")
            ));
        }
        if tls12.is_empty() && min <= 2 {
            return Err(at.err(
                list[0].referenced,
                "cipher_suites: none of these is available for TLS 1.2 in vigie; list an ECDHE \
                 suite with AES-GCM or ChaCha20-Poly1305, or set min_version: TLS13",
            ));
        }
        p.cipher_suites
            .retain(|s| s.version() == &rustls::version::TLS13);
        p.cipher_suites.extend(tls12);
    }
    if let Some(list) = &t.curve_preferences
        && !list.is_empty()
    {
        let mut groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup> = Vec::new();
        let mut dropped = Vec::new();
        for c in list {
            match c.value.as_str() {
                "X25519" => groups.push(provider::kx_group::X25519),
                "CurveP256" => groups.push(provider::kx_group::SECP256R1),
                "CurveP384" => groups.push(provider::kx_group::SECP384R1),
                "CurveP521" => dropped.push(c.value.clone()),
                other => {
                    return Err(at.err(
                        c.referenced,
                        format!("unknown curve: {other}; expected X25519, CurveP256, CurveP384 or CurveP521"),
                    ));
                }
            }
        }
        if !dropped.is_empty() {
            notes.push(format!(
                "curve_preferences: {} not offered by vigie's TLS library",
                dropped.join(", ")
            ));
        }
        if groups.is_empty() {
            return Err(at.err(list[0].referenced, "curve_preferences: none of these curves is available in vigie; add X25519, CurveP256 or CurveP384"));
        }
        p.kx_groups = groups;
    }
    let p = Arc::new(p);

    // Client certificates.
    let ca = pem_source(
        t.client_ca.as_ref(),
        t.client_ca_file.as_ref(),
        "client_ca",
        dir,
        at,
        section,
        files,
    )?;
    let (auth, auth_loc) = match &t.client_auth_type {
        Some(a) => (a.value.as_str(), a.referenced),
        None => ("", section),
    };
    let roots =
        |ca: &Option<(Vec<u8>, String, Location)>| -> Result<Arc<RootCertStore>, WebConfigError> {
            let Some((bytes, what, loc)) = ca else {
                return Err(at.err(
                auth_loc,
                format!("client_auth_type {auth} needs client_ca_file (or client_ca): the CA that signs client certificates"),
            ));
            };
            let mut store = RootCertStore::empty();
            for c in certificates(bytes, what, *loc, at)? {
                store
                    .add(c)
                    .map_err(|e| at.err(*loc, format!("{what}: unusable CA certificate: {e}")))?;
            }
            Ok(Arc::new(store))
        };
    let verifier: Arc<dyn ClientCertVerifier> = match auth {
        "" | "NoClientCert" => {
            if let Some((_, _, loc)) = &ca {
                return Err(at.err(
                    *loc,
                    "client CA's have been configured without a Client Auth Policy \
                     (set client_auth_type, e.g. RequireAndVerifyClientCert)",
                ));
            }
            WebPkiClientVerifier::no_client_auth()
        }
        "RequestClientCert" => Arc::new(AnyCert {
            mandatory: false,
            provider: p.clone(),
        }),
        "RequireAnyClientCert" | "RequireClientCert" => Arc::new(AnyCert {
            mandatory: true,
            provider: p.clone(),
        }),
        "VerifyClientCertIfGiven" => {
            WebPkiClientVerifier::builder_with_provider(roots(&ca)?, p.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| at.err(auth_loc, format!("client certificates: {e}")))?
        }
        "RequireAndVerifyClientCert" => {
            WebPkiClientVerifier::builder_with_provider(roots(&ca)?, p.clone())
                .build()
                .map_err(|e| at.err(auth_loc, format!("client certificates: {e}")))?
        }
        other => {
            return Err(at.err(
                auth_loc,
                format!("invalid ClientAuth: {other}; expected NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"),
            ));
        }
    };
    let verifier = match &t.client_allowed_sans {
        Some(sans) => {
            let mut names = Vec::new();
            for s in sans {
                let n = ServerName::try_from(s.value.clone()).map_err(|_| {
                    at.err(
                        s.referenced,
                        format!("client_allowed_sans: {:?}: vigie matches DNS names and IP addresses only (not e-mail or URI SANs)", s.value),
                    )
                })?;
                names.push(n);
            }
            Arc::new(SanCheck {
                inner: verifier,
                names,
            })
        }
        None => verifier,
    };

    let mut config = rustls::ServerConfig::builder_with_provider(p)
        .with_protocol_versions(&versions)
        .map_err(|e| at.err(section, format!("tls_server_config: {e}")))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| at.err(key_loc, format!("{cert_what} and {key_what}: {e}")))?;
    config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(true);
    // HTTP/1.1 only: say so in ALPN so that clients that offer h2 fall back.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// RequestClientCert / RequireAnyClientCert: a certificate is asked for
/// (and required with `mandatory`), and its signature over the handshake
/// checked, but not its chain (Go's semantics).
#[derive(Debug)]
struct AnyCert {
    mandatory: bool,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for AnyCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `client_allowed_sans`: the client certificate must name one of these.
#[derive(Debug)]
struct SanCheck {
    inner: Arc<dyn ClientCertVerifier>,
    names: Vec<ServerName<'static>>,
}

impl ClientCertVerifier for SanCheck {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }
    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|e| rustls::Error::General(format!("client certificate: {e}")))?;
        if self
            .names
            .iter()
            .any(|n| cert.verify_is_valid_for_subject_name(n).is_ok())
        {
            Ok(ok)
        } else {
            Err(rustls::Error::General(
                "the client certificate has none of client_allowed_sans".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

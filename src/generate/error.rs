//! What can go wrong in `gen-rules` once the thresholds file is valid:
//! writing the output (the user's disk) or serialising a document (a bug in
//! vigie). Mistakes in the thresholds file are [`crate::thresholds::ThresholdsError`]s,
//! caught before generation.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A generated document could not be serialised: a bug in vigie.
    #[error("internal error: cannot serialise {what} as {format} (please report this bug)")]
    Serialize {
        what: &'static str,
        format: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A generated rule that Prometheus would refuse (checked with a PromQL
    /// parser before anything is written): a bug in vigie, since the
    /// thresholds file's values are checked first.
    #[error(
        "internal error: the rule {rule} generated from {source_file} is not valid PromQL ({message}): {expr} (nothing was written; please report this bug)"
    )]
    InvalidRule {
        source_file: String,
        rule: String,
        expr: String,
        message: String,
    },
    /// An output file or directory could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl GenerateError {
    /// `what` failed to serialise as YAML.
    pub fn yaml(what: &'static str, e: serde_saphyr::SerializeError) -> GenerateError {
        GenerateError::Serialize {
            what,
            format: "YAML",
            source: Box::new(e),
        }
    }

    /// `what` failed to serialise as JSON.
    pub fn json(what: &'static str, e: serde_json::Error) -> GenerateError {
        GenerateError::Serialize {
            what,
            format: "JSON",
            source: Box::new(e),
        }
    }
}

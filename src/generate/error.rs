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

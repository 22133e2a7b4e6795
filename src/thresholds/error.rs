//! Errors of the thresholds file: each names the file, line and column.

/// A thresholds file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ThresholdsError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Where an error points.
pub(super) struct At<'a> {
    pub(super) file: &'a str,
}

impl At<'_> {
    pub(super) fn err(
        &self,
        loc: serde_saphyr::Location,
        message: impl Into<String>,
    ) -> ThresholdsError {
        ThresholdsError {
            file: self.file.to_string(),
            line: loc.line().max(1),
            column: loc.column().max(1),
            message: message.into(),
        }
    }
}

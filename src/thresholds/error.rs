//! Errors of the thresholds file: each names the file, line and column.

/// A thresholds file that cannot be used, with where and why. An error
/// about the whole file (it cannot be read) has line and column 0 and is
/// shown as `FILE: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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

impl std::fmt::Display for ThresholdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl ThresholdsError {
    /// An error about the whole file, with no position in it.
    pub(super) fn whole(file: &std::path::Path, message: impl Into<String>) -> ThresholdsError {
        ThresholdsError {
            file: file.display().to_string(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

//! Parsing of `smartctl --json` output (being written).

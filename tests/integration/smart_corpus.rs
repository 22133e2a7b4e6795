//! SMART JSON parser on the 48 real captures of `../shared/fixtures/smartctl` (being written).

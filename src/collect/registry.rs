//! The collector registry: what each collector file declares about itself
//! (an [`Entry`]: name, default state, summary, its own flags and how to
//! register it), and the glue that turns the one list, [`super::ALL`], into
//! `serve`'s `--collector.NAME` / `--no-collector.NAME` switches and
//! per-collector flags ([`CollectorArgs`]), the configuration's defaults and
//! the running collectors.
//!
//! Each collector file also declares the descriptors of the families it
//! exports (its part of the metric schema, [`crate::schema`]) and lists
//! them in its entry.
//!
//! A collector's settings are a clap `Args` struct ([`Settings`]): its flags,
//! their help heading and their defaults are written once, in its
//! attributes; its `Default` is what parsing no flag gives ([`defaults`]).

use std::any::Any;
use std::fmt::Debug;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command, FromArgMatches};

use super::{ALL, Registration};
use crate::paths::Paths;
use crate::schema::Desc;

/// What every collector may use of vigie's global settings.
pub struct Context<'a> {
    pub paths: &'a Paths,
    /// `--web.scrape-timeout`: the budget of collectors that run on scrape.
    pub scrape_timeout: Duration,
}

/// A collector's settings: its flags (a clap `Args` struct with explicit,
/// globally unique ids) and its registration (the collector, its schedule
/// and its timeout).
pub trait Settings: clap::Args + FromArgMatches + Debug + Clone + Send + Sync + 'static {
    fn register(&self, context: &Context) -> Registration;
}

/// [`Settings`] of any collector, as the configuration holds them.
pub trait AnySettings: Debug + Send + Sync {
    fn register(&self, context: &Context) -> Registration;
    fn clone_box(&self) -> Box<dyn AnySettings>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Settings> AnySettings for T {
    fn register(&self, context: &Context) -> Registration {
        Settings::register(self, context)
    }
    fn clone_box(&self) -> Box<dyn AnySettings> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Clone for Box<dyn AnySettings> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A collector, as its file declares it with `registry::entry!`.
pub struct Entry {
    /// The stable name: the `collector` label and the `--collector.NAME` flag.
    pub name: &'static str,
    pub default_enabled: bool,
    /// One line, for `--help`.
    pub summary: &'static str,
    /// What it exports, in a sentence, for the landing page.
    pub details: &'static str,
    /// The families it exports: its part of the metric schema.
    pub metrics: &'static [&'static Desc],
    /// `collector.NAME` and `no-collector.NAME`.
    pub on_flag: &'static str,
    pub off_flag: &'static str,
    /// Adds the collector's own flags to a command.
    pub flags: fn(Command) -> Command,
    /// The collector's settings from parsed flags.
    pub parse: fn(&ArgMatches) -> Result<Box<dyn AnySettings>, clap::Error>,
}

impl Entry {
    /// The settings the defaults of the collector's flags give.
    pub fn defaults(&self) -> Box<dyn AnySettings> {
        let matches = (self.flags)(Command::new("vigie").no_binary_name(true))
            .try_get_matches_from(std::iter::empty::<String>())
            .expect("a collector's default flag values parse");
        (self.parse)(&matches).expect("a collector's default flag values parse")
    }
}

/// Declares a collector's [`Entry`]:
/// `entry!("NAME", SettingsType, default_enabled: true, summary: "...",
/// details: "...", metrics: FAMILIES)`.
macro_rules! entry {
    ($name:literal, $settings:ty, default_enabled: $on:expr, summary: $summary:expr,
     details: $details:expr, metrics: $metrics:expr $(,)?) => {
        $crate::collect::registry::Entry {
            name: $name,
            default_enabled: $on,
            summary: $summary,
            details: $details,
            metrics: $metrics,
            on_flag: concat!("collector.", $name),
            off_flag: concat!("no-collector.", $name),
            flags: <$settings as clap::Args>::augment_args,
            parse: $crate::collect::registry::parse::<$settings>,
        }
    };
}
pub(crate) use entry;

/// Parses `T` from matches, boxed (the [`Entry::parse`] of a collector).
pub fn parse<T: Settings>(matches: &ArgMatches) -> Result<Box<dyn AnySettings>, clap::Error> {
    Ok(Box::new(T::from_arg_matches(matches)?))
}

/// The settings parsing no flag gives: a collector's `Default`.
pub fn defaults<T: Settings>() -> T {
    let matches = T::augment_args(Command::new("vigie").no_binary_name(true))
        .try_get_matches_from(std::iter::empty::<String>())
        .expect("a collector's default flag values parse");
    T::from_arg_matches(&matches).expect("a collector's default flag values parse")
}

/// The settings of every collector in [`ALL`] when none is switched.
pub fn default_collectors() -> Vec<Box<dyn AnySettings>> {
    ALL.iter()
        .filter(|e| e.default_enabled)
        .map(Entry::defaults)
        .collect()
}

const DISABLE_DEFAULTS: &str = "collector.disable-defaults";

/// `serve`'s collector flags: the switches of every collector in [`ALL`],
/// then each collector's own flags; parsed into the enabled collectors'
/// settings, in [`ALL`]'s order.
#[derive(Debug, Clone)]
pub struct CollectorArgs {
    pub enabled: Vec<Box<dyn AnySettings>>,
}

impl clap::Args for CollectorArgs {
    fn augment_args(cmd: Command) -> Command {
        let mut cmd = cmd.next_help_heading("Collectors").arg(
            Arg::new(DISABLE_DEFAULTS)
                .long(DISABLE_DEFAULTS)
                .action(ArgAction::SetTrue)
                .help("Turn off every collector not switched on explicitly with --collector.NAME"),
        );
        for e in ALL {
            let state = if e.default_enabled { "on" } else { "off" };
            cmd = cmd
                .arg(
                    Arg::new(e.on_flag)
                        .long(e.on_flag)
                        .action(ArgAction::SetTrue)
                        .overrides_with(e.off_flag)
                        .help(format!(
                            "Enable the {} collector ({state} by default): {}",
                            e.name, e.summary
                        )),
                )
                .arg(
                    Arg::new(e.off_flag)
                        .long(e.off_flag)
                        .action(ArgAction::SetTrue)
                        .overrides_with(e.on_flag)
                        .help(format!("Disable the {} collector", e.name)),
                );
        }
        for e in ALL {
            cmd = (e.flags)(cmd);
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for CollectorArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let disable_defaults = m.get_flag(DISABLE_DEFAULTS);
        let mut enabled = Vec::new();
        for e in ALL {
            // The switches override each other: at most one is set.
            let on = if m.get_flag(e.on_flag) {
                true
            } else if m.get_flag(e.off_flag) {
                false
            } else {
                e.default_enabled && !disable_defaults
            };
            if on {
                enabled.push((e.parse)(m)?);
            }
        }
        Ok(CollectorArgs { enabled })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry's name is unique, its flags are named after it, and the
    /// defaults of its flags parse and register a collector of that name.
    #[test]
    fn every_entry_is_consistent() {
        let paths = Paths::default();
        let context = Context {
            paths: &paths,
            scrape_timeout: Duration::from_secs(2),
        };
        let mut names = std::collections::BTreeSet::new();
        for e in ALL {
            assert!(names.insert(e.name), "{} listed twice", e.name);
            assert_eq!(e.on_flag, format!("collector.{}", e.name));
            assert_eq!(e.off_flag, format!("no-collector.{}", e.name));
            assert!(!e.summary.is_empty() && !e.details.is_empty(), "{}", e.name);
            assert!(!e.metrics.is_empty(), "{} declares no family", e.name);
            let own = (e.flags)(Command::new("x"));
            for arg in own.get_arguments() {
                let long = arg.get_long().unwrap_or_default();
                assert!(
                    long.starts_with(&format!("collector.{}.", e.name)),
                    "{}: flag --{long} is not under --collector.{}.",
                    e.name,
                    e.name
                );
            }
            let reg = e.defaults().register(&context);
            assert_eq!(reg.collector.name(), e.name);
        }
    }
}

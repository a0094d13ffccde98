//! Typed settings, layered with the `config` crate: the committed
//! `config/default.toml` (compiled in, so the binary runs from anywhere) →
//! `config/local.toml` if present → a file given with `--config` → the
//! environment (`FORUMBOT__SECTION__KEY`).
//!
//! The Discord token is read from the environment only and held as a
//! [`SecretString`]: it is never a field of a file, and never printed.
//!
//! `discord.shards` is checked while loading ([`Shards`]): a range that does
//! not fit its total is refused with a message saying what would.
//!
//! Every numeric setting has a range ([`RANGES`], one line per key, the same
//! ranges `config/default.toml` documents), checked when the settings load:
//! a value outside it, `nan`, `inf`, or a number too large for its key is
//! refused (exit 2) with the key, the value, where it came from (which file,
//! or which environment variable) and the range. `web.listen` must be an
//! address to listen on and `web.public_url` an http(s) URL.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings: {0}")]
    Config(#[from] config::ConfigError),
    #[error("settings: the Discord token must come from the environment (FORUMBOT__DISCORD__TOKEN or DISCORD_TOKEN), not from {0}")]
    TokenInFile(String),
    /// A value the bot cannot run with; the message names the key, where
    /// the value came from, and what would do.
    #[error("settings: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data: DataSettings,
    pub index: IndexSettings,
    pub search: SearchSettings,
    pub semantic: SemanticSettings,
    pub web: WebSettings,
    pub discord: DiscordSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSettings {
    pub threads: usize,
    pub lock_wait_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    pub default_limit: usize,
    pub max_limit: usize,
    pub max_question_chars: usize,
    pub min_coverage: f32,
    pub candidates: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SemanticSettings {
    pub enabled: bool,
    pub model_dir: String,
    pub fetch: bool,
    pub cache_file: String,
    pub max_tokens: usize,
    pub foreground_passages: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    pub enabled: bool,
    pub listen: String,
    pub public_url: String,
    pub header_read_timeout_seconds: u64,
    pub write_timeout_seconds: u64,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub max_requests_per_connection: usize,
    pub shutdown_grace_seconds: u64,
    pub page_cache_mb: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    /// From the environment only; see the module docs.
    #[serde(skip)]
    pub token: Option<SecretString>,
    /// `FORUMBOT__DISCORD__TOKEN` reaches the settings through the
    /// environment source too: accepted here (so unknown keys can be
    /// refused) and never kept; the token is read by [`Settings::load_with_env`].
    #[serde(default, rename = "token")]
    #[allow(dead_code)]
    _token_from_env: Option<serde::de::IgnoredAny>,
    pub api_base: String,
    pub guild_id: u64,
    pub moderator_role_ids: Vec<u64>,
    pub rate_limit_questions: u32,
    pub rate_limit_seconds: u64,
    pub max_upload_bytes: u64,
    /// Which gateway shards this process runs.
    pub shards: Shards,
}

/// `discord.shards`: which gateway shards this process runs.
///
/// Written `auto` (as many as Discord recommends, all in this process), `N`
/// (a total of N, all in this process), `K/N` (shard K of N) or `A-B/N`
/// (shards A to B, both included, of N). Processes that share one bot must
/// agree on N and together cover `0` to `N-1` once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    Auto,
    Range { first: u32, last: u32, total: u32 },
}

/// How a `discord.shards` value may be written, for error messages.
const SHARDS_FORMS: &str =
    "use \"auto\", a total such as \"4\" (all four in this process), one shard of a total such as \"1/4\", or a range of a total such as \"0-1/4\" (shards numbered from 0)";

impl Shards {
    /// Whether this process runs shard 0 (the one that registers the
    /// commands); `auto` always does.
    pub fn runs_shard_zero(&self) -> bool {
        match self {
            Shards::Auto => true,
            Shards::Range { first, .. } => *first == 0,
        }
    }
}

impl std::fmt::Display for Shards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shards::Auto => f.write_str("auto"),
            Shards::Range { first, last, total } if first == last => {
                write!(f, "{first}/{total}")
            }
            Shards::Range { first, last, total } => write!(f, "{first}-{last}/{total}"),
        }
    }
}

impl std::str::FromStr for Shards {
    type Err = String;

    fn from_str(text: &str) -> Result<Shards, String> {
        let s = text.trim();
        let bad = |why: &str| format!("discord.shards = {text:?}: {why}; {SHARDS_FORMS}");
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Shards::Auto);
        }
        let number = |part: &str, what: &str| -> Result<u32, String> {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("the {what} {part:?} is not a whole number")));
            }
            part.parse::<u32>()
                .map_err(|_| bad(&format!("the {what} {part} is too large")))
        };
        let (range, total) = match s.split_once('/') {
            Some((range, total)) => (Some(range), number(total, "total")?),
            None => (None, number(s, "total")?),
        };
        if total == 0 {
            return Err(bad("a bot needs at least 1 shard"));
        }
        let (first, last) = match range {
            None => (0, total - 1),
            Some(range) => match range.split_once('-') {
                Some((a, b)) => (number(a, "first shard")?, number(b, "last shard")?),
                None => {
                    let k = number(range, "shard")?;
                    (k, k)
                }
            },
        };
        if first > last {
            return Err(bad(&format!(
                "the range {first}-{last} runs backwards: write the lower shard first ({last}-{first}/{total})"
            )));
        }
        if last >= total {
            return Err(bad(&format!(
                "shard {last} does not exist in a total of {total}: shards are numbered 0 to {}",
                total - 1
            )));
        }
        Ok(Shards::Range { first, last, total })
    }
}

impl<'de> Deserialize<'de> for Shards {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shards, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Shards;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SHARDS_FORMS)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Shards, E> {
                v.parse().map_err(E::custom)
            }
            // The environment layer parses `FORUMBOT__DISCORD__SHARDS=4` as a number.
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Shards, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Shards, E> {
                v.to_string().parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
}

/// The values a numeric setting may take, both ends included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// A whole number.
    Whole(u64, u64),
    /// A finite number.
    Real(f64, f64),
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Range::Whole(min, max) => write!(f, "a whole number from {min} to {max}"),
            Range::Real(min, max) => write!(f, "a number from {min} to {max}"),
        }
    }
}

/// The range of every numeric setting: checked when the settings load,
/// and documented beside each key in `config/default.toml` (a test holds
/// the two together). A new numeric key is one line here. Zero is
/// allowed only where it means something (`0` seconds of grace, a rate
/// limit of `0` for none, a page cache of `0` that keeps no page).
pub const RANGES: &[(&str, Range)] = &[
    ("index.threads", Range::Whole(1, 64)),
    ("index.lock_wait_seconds", Range::Whole(0, 86_400)),
    ("search.default_limit", Range::Whole(1, 100)),
    ("search.max_limit", Range::Whole(1, 100)),
    ("search.max_question_chars", Range::Whole(1, 2_000)),
    ("search.min_coverage", Range::Real(0.0, 1.0)),
    ("search.candidates", Range::Whole(1, 2_000)),
    ("semantic.max_tokens", Range::Whole(16, 510)),
    ("semantic.foreground_passages", Range::Whole(0, 100_000_000)),
    ("web.header_read_timeout_seconds", Range::Whole(1, 3_600)),
    ("web.write_timeout_seconds", Range::Whole(1, 3_600)),
    ("web.max_connections", Range::Whole(1, 65_536)),
    ("web.max_connections_per_client", Range::Whole(1, 65_536)),
    (
        "web.max_requests_per_connection",
        Range::Whole(1, 1_000_000),
    ),
    ("web.shutdown_grace_seconds", Range::Whole(0, 3_600)),
    ("web.page_cache_mb", Range::Whole(0, 16_384)),
    ("discord.guild_id", Range::Whole(0, u64::MAX)),
    ("discord.rate_limit_questions", Range::Whole(0, 10_000)),
    ("discord.rate_limit_seconds", Range::Whole(0, 86_400)),
    ("discord.max_upload_bytes", Range::Whole(1, 100_000_000)),
];

/// Where a setting's value came from, for messages: the file, or the
/// environment variable.
fn origin(value: &config::Value, key: &str) -> String {
    match value.origin() {
        Some("the environment") => format!(
            "from the environment variable FORUMBOT__{}",
            key.replace('.', "__").to_ascii_uppercase()
        ),
        Some(file) => format!("from {file}"),
        None => "from the built-in defaults, config/default.toml".to_owned(),
    }
}

/// The raw value of `key` (`section.name`), with its origin.
fn raw(cfg: &config::Config, key: &str) -> Option<config::Value> {
    let (section, name) = key.split_once('.')?;
    cfg.get_table(section).ok()?.remove(name)
}

/// Checks one raw value against its range, before it is converted (the
/// `config` crate would round `2.5`, saturate `inf` and read `nan` as 0
/// for a whole number).
fn check_range(cfg: &config::Config, key: &str, range: Range) -> Result<(), SettingsError> {
    use config::ValueKind as V;
    let Some(value) = raw(cfg, key) else {
        return Ok(()); // missing: deserialising names it
    };
    let refuse = |shown: String, why: &str| {
        SettingsError::Invalid(format!(
            "{key} = {shown} ({}) {why}: give {range}",
            origin(&value, key)
        ))
    };
    let out_of_range = "is out of range";
    match (range, &value.kind) {
        (Range::Whole(min, max), V::I64(_) | V::I128(_) | V::U64(_) | V::U128(_)) => {
            let n: i128 = match value.kind {
                V::I64(n) => n.into(),
                V::I128(n) => n,
                V::U64(n) => n.into(),
                V::U128(n) => i128::try_from(n).unwrap_or(i128::MAX),
                _ => unreachable!("matched above"),
            };
            if n < i128::from(min) || n > i128::from(max) {
                return Err(refuse(n.to_string(), out_of_range));
            }
        }
        (Range::Whole(..), V::Float(x)) => {
            return Err(refuse(x.to_string(), "is not a whole number"))
        }
        (Range::Real(min, max), V::Float(_) | V::I64(_) | V::U64(_) | V::I128(_) | V::U128(_)) => {
            let x = match value.kind {
                V::Float(x) => x,
                V::I64(n) => n as f64,
                V::U64(n) => n as f64,
                V::I128(n) => n as f64,
                V::U128(n) => n as f64,
                _ => unreachable!("matched above"),
            };
            if !x.is_finite() {
                return Err(refuse(x.to_string(), "is not a finite number"));
            }
            if x < min || x > max {
                return Err(refuse(x.to_string(), out_of_range));
            }
        }
        (_, V::String(text)) => return Err(refuse(format!("{text:?}"), "is not a number")),
        (_, V::Boolean(b)) => return Err(refuse(b.to_string(), "is not a number")),
        (_, _) => return Err(refuse("(a list or table)".into(), "is not a number")),
    }
    Ok(())
}

/// Whether `listen` is an address a server can bind: `IP:PORT`
/// (`127.0.0.1:8080`, `[::]:8080`) or `localhost:PORT`.
fn is_listen_address(listen: &str) -> bool {
    if listen.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    matches!(listen.rsplit_once(':'), Some(("localhost", port)) if port.parse::<u16>().is_ok())
}

/// Whether `url` can be the base of links: `http(s)://host[:port][/path]`,
/// with no query, fragment, credentials, spaces or control characters.
fn is_public_url(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    matches!(u.scheme(), "http" | "https")
        && u.host_str().is_some_and(|h| !h.is_empty())
        && u.query().is_none()
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What is checked once the values have their types: keys that must
/// agree, and the web addresses.
fn check(cfg: &config::Config, s: &Settings) -> Result<(), SettingsError> {
    let from = |key: &str| raw(cfg, key).map_or_else(String::new, |v| origin(&v, key));
    if s.search.default_limit > s.search.max_limit {
        return Err(SettingsError::Invalid(format!(
            "search.default_limit = {} ({}) is over search.max_limit = {} ({}): the default must be one a user may ask for; lower it or raise search.max_limit",
            s.search.default_limit,
            from("search.default_limit"),
            s.search.max_limit,
            from("search.max_limit"),
        )));
    }
    if !is_listen_address(s.web.listen.trim()) {
        return Err(SettingsError::Invalid(format!(
            "web.listen = {:?} ({}) is not an address to listen on: give IP:PORT, for example \"127.0.0.1:8080\" or \"0.0.0.0:8080\"",
            s.web.listen,
            from("web.listen"),
        )));
    }
    let public = s.web.public_url.trim();
    if !public.is_empty() && !is_public_url(public) {
        return Err(SettingsError::Invalid(format!(
            "web.public_url = {:?} ({}) is not a web address: give an http or https URL such as \"https://bot.example\" (no query or #fragment), or leave it empty for http://{{web.listen}}",
            s.web.public_url,
            from("web.public_url"),
        )));
    }
    Ok(())
}

impl Settings {
    /// Loads the layers. `extra` is the `--config` file.
    pub fn load(extra: Option<&Path>) -> Result<Settings, SettingsError> {
        Self::load_with_env(extra, |k| std::env::var(k).ok())
    }

    /// As [`Settings::load`], with `vars` as the whole environment (the
    /// `FORUMBOT__*` settings and the token), for tests.
    pub fn load_from(
        extra: Option<&Path>,
        vars: std::collections::HashMap<String, String>,
    ) -> Result<Settings, SettingsError> {
        Self::load_layers(extra, Some(vars.clone()), |k| vars.get(k).cloned())
    }

    /// As [`Settings::load`], reading the token through `env` (for tests).
    pub fn load_with_env(
        extra: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        Self::load_layers(extra, None, env)
    }

    /// The layers, with `vars` as the environment (`None`: the process's)
    /// and the token read through `env`.
    fn load_layers(
        extra: Option<&Path>,
        vars: Option<std::collections::HashMap<String, String>>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        use config::{Config, Environment, File, FileFormat};
        let mut b = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(
                File::with_name("config/local")
                    .format(FileFormat::Toml)
                    .required(false),
            );
        if let Some(p) = extra {
            b = b.add_source(
                File::from(p.to_owned())
                    .format(FileFormat::Toml)
                    .required(true),
            );
        }
        let cfg = b
            .add_source(
                Environment::with_prefix("FORUMBOT")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("discord.moderator_role_ids")
                    .ignore_empty(true)
                    .source(vars.map(|v| v.into_iter().collect())),
            )
            .build()?;
        if let Some(p) = extra {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            if text.lines().any(|l| l.trim_start().starts_with("token")) {
                return Err(SettingsError::TokenInFile(p.display().to_string()));
            }
        }
        // Every struct denies unknown fields: a misspelt key (`default_limt`)
        // is refused with its name, not silently ignored.
        for &(key, range) in RANGES {
            check_range(&cfg, key, range)?;
        }
        let mut s: Settings = cfg.clone().try_deserialize()?;
        check(&cfg, &s)?;
        s.discord.token = env("FORUMBOT__DISCORD__TOKEN")
            .or_else(|| env("DISCORD_TOKEN"))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        Ok(s)
    }

    /// Base URL for links: `web.public_url`, or the listen address.
    pub fn public_url(&self) -> String {
        let u = self.web.public_url.trim();
        if u.is_empty() {
            format!("http://{}", self.web.listen.trim())
        } else {
            u.trim_end_matches('/').to_owned()
        }
    }

    /// The engine's options from these settings.
    pub fn engine_options(&self) -> crate::engine::EngineOptions {
        crate::engine::EngineOptions {
            data_dir: self.data.dir.clone(),
            public_url: self.public_url(),
            index_threads: self.index.threads,
            max_question_chars: self.search.max_question_chars,
            max_limit: self.search.max_limit,
            min_coverage: self.search.min_coverage,
            candidates: self.search.candidates,
            lock_wait: std::time::Duration::from_secs(self.index.lock_wait_seconds),
            semantic: self.semantic_options(),
            semantic_in_background: false,
        }
    }

    /// The `[semantic]` settings, with empty paths made concrete: the model
    /// in `{data.dir}/models`, no shared cache.
    pub fn semantic_options(&self) -> crate::semantic::SemanticOptions {
        let s = &self.semantic;
        let path = |p: &str| (!p.trim().is_empty()).then(|| std::path::PathBuf::from(p.trim()));
        crate::semantic::SemanticOptions {
            enabled: s.enabled,
            model_dir: path(&s.model_dir).unwrap_or_else(|| self.data.dir.join("models")),
            fetch: s.fetch,
            cache_file: path(&s.cache_file),
            max_tokens: s.max_tokens,
            foreground_passages: s.foreground_passages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_load_and_token_comes_from_env_only() {
        let s = Settings::load_with_env(None, |k| (k == "DISCORD_TOKEN").then(|| "abc".to_owned()))
            .unwrap();
        assert_eq!(s.search.default_limit, 3);
        assert_eq!(s.public_url(), "http://127.0.0.1:8080");
        assert_eq!(s.discord.token.as_ref().unwrap().expose_secret(), "abc");
        // Debug output of the settings never shows the token.
        assert!(!format!("{s:?}").contains("abc"));
        let s = Settings::load_with_env(None, |_| None).unwrap();
        assert!(s.discord.token.is_none());
    }

    #[test]
    fn a_token_in_a_settings_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, "[discord]\ntoken = \"secret\"\n").unwrap();
        let err = Settings::load_with_env(Some(&p), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("environment") && !err.contains("secret\""),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_or_misspelt_key_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, "[search]\ndefault_limt = 5\n").unwrap();
        let err = Settings::load_with_env(Some(&p), |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("default_limt"), "{err}");
        std::fs::write(&p, "[serach]\ndefault_limit = 5\n").unwrap();
        let err = Settings::load_with_env(Some(&p), |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("serach"), "{err}");
    }

    #[test]
    fn a_settings_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(
            &p,
            "[search]\ndefault_limit = 5\n[web]\npublic_url = \"https://bot.example/\"\n",
        )
        .unwrap();
        let s = Settings::load_with_env(Some(&p), |_| None).unwrap();
        assert_eq!(s.search.default_limit, 5);
        assert_eq!(s.public_url(), "https://bot.example");
    }

    /// Loads with `file` as the `--config` file (if given) and `vars` as the
    /// whole FORUMBOT environment; the error's text.
    fn refused(file: Option<&str>, vars: &[(&str, &str)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        if let Some(text) = file {
            std::fs::write(&p, text).unwrap();
        }
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match Settings::load_from(file.map(|_| p.as_path()), vars) {
            Ok(s) => panic!("accepted {file:?}: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn numbers_out_of_range_are_refused_naming_key_value_and_origin() {
        for (key, value, why) in [
            (
                "web.header_read_timeout_seconds",
                "9223372036854775807",
                "out of range",
            ),
            ("web.max_connections", "2305843009213693952", "out of range"),
            ("web.max_connections", "0", "out of range"),
            ("search.candidates", "1000000000000", "out of range"),
            ("search.min_coverage", "nan", "not a finite number"),
            ("search.min_coverage", "inf", "not a finite number"),
            ("search.min_coverage", "2.5", "out of range"),
            ("search.min_coverage", "-1", "out of range"),
            ("search.max_limit", "0", "out of range"),
            ("index.threads", "0", "out of range"),
            ("index.threads", "2.5", "not a whole number"),
            (
                "discord.rate_limit_questions",
                "99999999999",
                "out of range",
            ),
            ("web.page_cache_mb", "true", "not a number"),
        ] {
            let (section, name) = key.split_once('.').unwrap();
            // From a file: the file is named.
            let err = refused(Some(&format!("[{section}]\n{name} = {value}\n")), &[]);
            assert!(
                err.contains(key) && err.contains(why),
                "{key} = {value}: {err}"
            );
            assert!(err.contains("x.toml"), "{key} = {value}: no file in {err}");
            assert!(err.contains("give a"), "{key} = {value}: no range in {err}");
            // From the environment: the variable is named.
            let var = format!("FORUMBOT__{}", key.replace('.', "__").to_ascii_uppercase());
            let err = refused(None, &[(var.as_str(), value)]);
            assert!(
                err.contains(key) && err.contains(why),
                "{var}={value}: {err}"
            );
            assert!(
                err.contains(&format!("environment variable {var}")),
                "{err}"
            );
        }
    }

    #[test]
    fn limits_that_disagree_and_bad_addresses_are_refused() {
        let err = refused(Some("[search]\ndefault_limit = 50\n"), &[]);
        assert!(
            err.contains("search.default_limit = 50") && err.contains("search.max_limit = 10"),
            "{err}"
        );
        for listen in [
            "notanaddress",
            "127.0.0.1",
            "127.0.0.1:99999",
            "http://x:80",
        ] {
            let err = refused(None, &[("FORUMBOT__WEB__LISTEN", listen)]);
            assert!(
                err.contains("web.listen") && err.contains("FORUMBOT__WEB__LISTEN"),
                "{listen}: {err}"
            );
        }
        for url in [
            "notaurl",
            "ftp://bot.example",
            "https://",
            "https://bot.example/?x=1",
            "https://bot.example/#t",
            "javascript:alert(1)",
        ] {
            let err = refused(Some(&format!("[web]\npublic_url = \"{url}\"\n")), &[]);
            assert!(
                err.contains("web.public_url") && err.contains("x.toml"),
                "{url}: {err}"
            );
        }
        // What does parse, parses.
        for (listen, url) in [
            ("0.0.0.0:8080", "https://bot.example"),
            ("[::1]:8080", "http://127.0.0.1:8080/pages/"),
            ("localhost:8080", ""),
        ] {
            let vars = [
                ("FORUMBOT__WEB__LISTEN", listen),
                ("FORUMBOT__WEB__PUBLIC_URL", url),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            Settings::load_from(None, vars).unwrap_or_else(|e| panic!("{listen} {url}: {e}"));
        }
    }

    #[test]
    fn every_numeric_setting_has_a_range_documented_beside_it() {
        // The defaults are in range, and default.toml says each range in
        // the comment above its key, as RANGES has it.
        let table: toml::Table = DEFAULTS.parse().unwrap();
        let mut numeric = Vec::new();
        for (section, keys) in &table {
            for (name, value) in keys.as_table().unwrap() {
                if value.is_integer() || value.is_float() {
                    numeric.push(format!("{section}.{name}"));
                }
            }
        }
        numeric.sort();
        let mut ranged: Vec<String> = RANGES.iter().map(|(k, _)| k.to_string()).collect();
        ranged.sort();
        assert_eq!(numeric, ranged, "every numeric key needs a line in RANGES");
        let lines: Vec<&str> = DEFAULTS.lines().collect();
        for (key, range) in RANGES {
            let name = key.split_once('.').unwrap().1;
            let at = lines
                .iter()
                .position(|l| l.starts_with(&format!("{name} = ")))
                .unwrap_or_else(|| panic!("{key} not in default.toml"));
            let (min, max) = match range {
                Range::Whole(a, b) => (a.to_string(), b.to_string()),
                Range::Real(a, b) => (a.to_string(), b.to_string()),
            };
            let documented = format!("# Range: {min} to {max}");
            assert!(
                lines[at - 1].starts_with(&documented),
                "{key}: the line above it should start with {documented:?}, not {:?}",
                lines[at - 1]
            );
        }
        Settings::load_from(None, Default::default()).expect("the defaults are in range");
    }

    #[test]
    fn shard_settings_are_read_in_every_form() {
        let range = |first, last, total| Shards::Range { first, last, total };
        for (text, want) in [
            ("auto", Shards::Auto),
            (" AUTO ", Shards::Auto),
            ("4", range(0, 3, 4)),
            ("1/4", range(1, 1, 4)),
            ("0-1/4", range(0, 1, 4)),
            ("2 - 3 / 4", range(2, 3, 4)),
            ("0/1", range(0, 0, 1)),
        ] {
            assert_eq!(text.parse::<Shards>(), Ok(want), "{text}");
        }
        assert_eq!(range(0, 1, 4).to_string(), "0-1/4");
        assert_eq!(range(3, 3, 4).to_string(), "3/4");
        assert!(Shards::Auto.runs_shard_zero() && range(0, 0, 2).runs_shard_zero());
        assert!(!range(1, 1, 2).runs_shard_zero());
    }

    #[test]
    fn bad_shard_ranges_are_refused_with_what_would_do() {
        for (text, why) in [
            ("", "empty"),
            ("0", "at least 1 shard"),
            ("0-1/0", "at least 1 shard"),
            (
                "3-1/4",
                "runs backwards: write the lower shard first (1-3/4)",
            ),
            (
                "4/4",
                "shard 4 does not exist in a total of 4: shards are numbered 0 to 3",
            ),
            ("0-4/4", "shard 4 does not exist"),
            ("-1/4", "the first shard \"\" is not a whole number"),
            ("1-/4", "the last shard \"\" is not a whole number"),
            ("a-b/4", "the first shard \"a\" is not a whole number"),
            ("0-1/", "the total \"\" is not a whole number"),
            ("0-1/4/8", "the total \"4/8\" is not a whole number"),
            ("half", "the total \"half\" is not a whole number"),
            ("99999999999", "too large"),
        ] {
            let err = text.parse::<Shards>().unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
            assert!(err.starts_with("discord.shards = "), "{text:?}: {err}");
            assert!(err.contains("\"0-1/4\""), "{text:?}: no example in {err}");
        }
    }

    #[test]
    fn shards_come_from_files_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, "[discord]\nshards = \"1/2\"\n").unwrap();
        let s = Settings::load_with_env(Some(&p), |_| None).unwrap();
        assert_eq!(
            s.discord.shards,
            Shards::Range {
                first: 1,
                last: 1,
                total: 2
            }
        );
        // The default is auto; a bad value in a file is refused by name.
        let s = Settings::load_with_env(None, |_| None).unwrap();
        assert_eq!(s.discord.shards, Shards::Auto);
        std::fs::write(&p, "[discord]\nshards = \"2-5/4\"\n").unwrap();
        let err = Settings::load_with_env(Some(&p), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("discord.shards") && err.contains("numbered 0 to 3"),
            "{err}"
        );
        // A whole number, as the environment layer hands it over.
        std::fs::write(&p, "[discord]\nshards = 2\n").unwrap();
        let s = Settings::load_with_env(Some(&p), |_| None).unwrap();
        assert_eq!(
            s.discord.shards,
            Shards::Range {
                first: 0,
                last: 1,
                total: 2
            }
        );
    }
}

//! Typed settings, layered with the `config` crate: the committed
//! `config/default.toml` (compiled in, so the binary runs from anywhere) →
//! `config/local.toml` if present → a file given with `--config` → the
//! environment (`FORUMBOT__SECTION__KEY`).
//!
//! The Discord token is read from the environment only and held as a
//! [`SecretString`]: it is never a field of a file, and never printed.

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data: DataSettings,
    pub index: IndexSettings,
    pub search: SearchSettings,
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
pub struct WebSettings {
    pub enabled: bool,
    pub listen: String,
    pub public_url: String,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
}

impl Settings {
    /// Loads the layers. `extra` is the `--config` file.
    pub fn load(extra: Option<&Path>) -> Result<Settings, SettingsError> {
        Self::load_with_env(extra, |k| std::env::var(k).ok())
    }

    /// As [`Settings::load`], reading the token through `env` (for tests).
    pub fn load_with_env(
        extra: Option<&Path>,
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
                    .ignore_empty(true),
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
        let mut s: Settings = cfg.try_deserialize()?;
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
            format!("http://{}", self.web.listen)
        } else {
            u.trim_end_matches('/').to_owned()
        }
    }

    /// The engine's options from these settings.
    pub fn engine_options(&self) -> crate::search::EngineOptions {
        crate::search::EngineOptions {
            data_dir: self.data.dir.clone(),
            public_url: self.public_url(),
            index_threads: self.index.threads,
            max_question_chars: self.search.max_question_chars,
            max_limit: self.search.max_limit,
            min_coverage: self.search.min_coverage,
            candidates: self.search.candidates,
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
}

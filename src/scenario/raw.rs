//! The scenario file as written: a serde mirror of the TOML with spans, before any checking.
//!
//! Every table denies unknown fields. Fields whose absence deserves a message naming the
//! offending id are optional here and checked in `validate`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub scenario: Option<Spanned<RawMeta>>,
    #[serde(default)]
    pub environment: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    pub adversary: Option<Spanned<RawAdversary>>,
    #[serde(default)]
    pub controls: Vec<Spanned<RawControl>>,
    #[serde(default)]
    pub variants: Vec<Spanned<RawVariant>>,
    pub loss: Option<Spanned<RawLoss>>,
}

/// `[scenario]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeta {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub trials: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
}

/// `[adversary]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdversary {
    pub name: Option<String>,
    pub max_attempts: Option<Spanned<i64>>,
    #[serde(default)]
    pub techniques: Vec<Spanned<RawTechnique>>,
}

/// `[[adversary.techniques]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTechnique {
    pub id: Option<Spanned<String>>,
    pub phase: Option<Spanned<String>>,
    pub name: Option<String>,
    pub attack: Option<Spanned<String>>,
    pub weight: Option<Spanned<toml::Value>>,
    pub success: Option<Spanned<toml::Value>>,
    pub requires: Option<Vec<Spanned<String>>>,
}

/// `[[controls]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawControl {
    pub id: Option<Spanned<String>>,
    pub name: Option<String>,
    pub action: Option<Spanned<String>>,
    pub phases: Option<Spanned<Vec<Spanned<String>>>>,
    pub techniques: Option<Vec<Spanned<String>>>,
    pub effectiveness: Option<Spanned<toml::Value>>,
    pub response: Option<Spanned<toml::Value>>,
    pub enabled: Option<bool>,
    pub cost: Option<Spanned<toml::Value>>,
}

/// `[[variants]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVariant {
    pub name: Option<Spanned<String>>,
    pub enable: Option<Vec<Spanned<String>>>,
    pub disable: Option<Vec<Spanned<String>>>,
    /// `"id.field" = value`; a dotted key written unquoted arrives as a nested table.
    pub set: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

/// `[loss]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoss {
    pub attacks_per_year: Option<Spanned<toml::Value>>,
    /// An amount, `{ low, high }` or `{ min, mode, max }`; its keys are checked in `validate`.
    pub impact: Option<Spanned<toml::Value>>,
    pub currency: Option<Spanned<String>>,
}

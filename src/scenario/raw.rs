//! The scenario file as written: a serde mirror of the TOML with spans, before any checking.
//!
//! Every table denies unknown fields. Fields whose absence deserves a message naming the
//! offending id are optional here and checked in `validate`.
//!
//! The same types generate the JSON Schema that `killchain schema` prints (schemars). Each field's
//! `///` comment becomes its description. A `Spanned<T>` field carries
//! `#[schemars(with = "T")]` (the schema of what is written, without the span); a field that may
//! be left out also carries `default`, so that only the fields `validate` insists on are
//! `required` in the schema. A `toml::Value` field names the schema type in [`schema`] that says
//! what it may hold (a number or a fact name; a boolean or a number). Range and pattern rules
//! (`range`, `pattern`) repeat in the schema what `validate` checks, for an editor to flag early;
//! `validate` remains the authority.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "killchain scenario",
    description = "A killchain scenario file: the defended estate, the adversary's techniques at each kill-chain phase, the defender's controls and variants to compare.",
    extend(
        "oneOf" = [{ "required": ["adversary"] }, { "required": ["adversaries"] }],
        "allOf" = [
            {
                "if": { "required": ["adversary"] },
                "then": { "properties": { "loss": { "required": ["attacks_per_year", "impact"] } } }
            },
            {
                "if": { "required": ["adversaries"] },
                "then": { "properties": { "loss": { "not": { "required": ["attacks_per_year"] } } } }
            },
            {
                "if": { "required": ["adversaries", "loss"] },
                "then": { "properties": { "adversaries": { "items": { "required": ["attacks_per_year"] } } } }
            },
            {
                "if": {
                    "required": ["adversaries", "loss"],
                    "properties": { "loss": { "not": { "required": ["impact"] } } }
                },
                "then": { "properties": { "adversaries": { "items": { "required": ["impact"] } } } }
            }
        ]
    )
)]
pub(crate) struct RawFile {
    /// The scenario's name, description, default trial count and seed.
    #[schemars(with = "RawMeta")]
    pub scenario: Option<Spanned<RawMeta>>,
    /// Facts about the defended estate, each a boolean (for `requires`) or a number (a
    /// probability read by `success`, `effectiveness` or `response`, or a technique's `weight`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<schema::Id, schema::FactValue>")]
    pub environment: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// The adversary: its name, attempts per phase and techniques (or `[[adversaries]]`).
    #[schemars(with = "RawAdversary", default)]
    pub adversary: Option<Spanned<RawAdversary>>,
    /// A threat landscape instead of `[adversary]`: several adversaries against the same
    /// controls, each with its own techniques and its own rate of campaigns.
    #[serde(default)]
    #[schemars(with = "Vec<RawLandscapeAdversary>", length(min = 1))]
    pub adversaries: Vec<Spanned<RawLandscapeAdversary>>,
    /// The defender's controls, each a course of action at one or more phases.
    #[serde(default)]
    #[schemars(with = "Vec<RawControl>")]
    pub controls: Vec<Spanned<RawControl>>,
    /// Variants of the scenario for `killchain compare`, each a change to the scenario as
    /// written (the baseline).
    #[serde(default)]
    #[schemars(with = "Vec<RawVariant>")]
    pub variants: Vec<Spanned<RawVariant>>,
    /// Money: attacks per year and the loss of a completed attack (optional).
    #[schemars(with = "RawLoss", default)]
    pub loss: Option<Spanned<RawLoss>>,
}

/// `[scenario]`: the scenario's name and the run's defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeta {
    /// The scenario's name, printed in every report.
    #[schemars(with = "String")]
    pub name: Option<Spanned<String>>,
    /// Free text.
    #[schemars(default)]
    pub description: Option<String>,
    /// Default number of trials (campaigns) to simulate; `--trials` overrides it. Default 100000.
    #[schemars(with = "u64", default, range(min = 1))]
    pub trials: Option<Spanned<i64>>,
    /// Default seed, an integer from 0 to 9223372036854775807 (2^63 − 1, the largest TOML
    /// integer); `--seed` overrides it. Default 1.
    #[schemars(with = "schema::Seed", default)]
    pub seed: Option<Spanned<RawSeed>>,
}

/// A seed as written: whatever value the file holds there, so that `validate` refuses a string,
/// a fraction, a negative number and an integer beyond TOML's range in the same words.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawSeed {
    /// An integer, with the range any TOML parser may hand over.
    Integer(i128),
    /// Anything else, as the message shows it (`1.5`, `the string "7"`, `a table`).
    Other(String),
}

impl<'de> Deserialize<'de> for RawSeed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeedVisitor)
    }
}

struct SeedVisitor;

impl<'de> serde::de::Visitor<'de> for SeedVisitor {
    type Value = RawSeed;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a seed")
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawSeed, E> {
        Ok(RawSeed::Integer(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawSeed, E> {
        Ok(RawSeed::Integer(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawSeed, E> {
        Ok(RawSeed::Integer(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawSeed, E> {
        Ok(i128::try_from(v).map_or_else(|_| RawSeed::Other(v.to_string()), RawSeed::Integer))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawSeed, E> {
        Ok(RawSeed::Other(format!("{v:?}")))
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawSeed, E> {
        Ok(RawSeed::Other(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawSeed, E> {
        Ok(RawSeed::Other(format!("the string {v:?}")))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<RawSeed, A::Error> {
        while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(RawSeed::Other("an array".to_owned()))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<RawSeed, A::Error> {
        // A date-time reaches a deserializer as a table with one private key.
        let mut what = "a table";
        while let Some(key) = a.next_key::<String>()? {
            if key.starts_with("$__toml_private") {
                what = "a date-time";
            }
            a.next_value::<serde::de::IgnoredAny>()?;
        }
        Ok(RawSeed::Other(what.to_owned()))
    }
}

/// `[adversary]`: who attacks, how persistently, with which techniques.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdversary {
    /// The adversary's name.
    #[schemars(default)]
    pub name: Option<String>,
    /// Distinct techniques tried per phase before giving up. Default 1.
    #[schemars(with = "u64", default, range(min = 1, max = 64))]
    pub max_attempts: Option<Spanned<i64>>,
    /// The adversary's options: at least one per phase, at most 64 per phase.
    #[serde(default)]
    #[schemars(with = "Vec<RawTechnique>")]
    pub techniques: Vec<Spanned<RawTechnique>>,
}

/// `[[adversaries]]`: one adversary of a threat landscape.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLandscapeAdversary {
    /// Unique among adversaries, techniques and controls; names the adversary's rows and its
    /// random streams.
    #[schemars(with = "schema::Id")]
    pub id: Option<Spanned<String>>,
    /// The adversary's name; defaults to the id.
    #[schemars(default)]
    pub name: Option<String>,
    /// Distinct techniques tried per phase before giving up. Default 1.
    #[schemars(with = "u64", default, range(min = 1, max = 64))]
    pub max_attempts: Option<Spanned<i64>>,
    /// Expected campaigns of this adversary per year (the mean of a Poisson count), in
    /// [0.01, 1e6]; required with `[loss]` or when there is more than one adversary.
    #[schemars(with = "f64", default, range(min = 0.01, max = 1e6))]
    pub attacks_per_year: Option<Spanned<toml::Value>>,
    /// The loss of one completed attack of this adversary, in the forms of `loss.impact`;
    /// omitted, `[loss].impact`.
    #[schemars(with = "schema::Impact", default)]
    pub impact: Option<Spanned<toml::Value>>,
    /// A disabled adversary is left out of `run` and `exact`. Default true.
    #[schemars(default)]
    pub enabled: Option<bool>,
    /// The adversary's options: at least one per phase, at most 64 per phase.
    #[serde(default)]
    #[schemars(with = "Vec<RawTechnique>")]
    pub techniques: Vec<Spanned<RawTechnique>>,
}

/// `[[adversary.techniques]]`: one of the adversary's options at one kill-chain phase.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTechnique {
    /// Unique among techniques and controls.
    #[schemars(with = "schema::Id")]
    pub id: Option<Spanned<String>>,
    /// The kill-chain phase the technique belongs to.
    #[schemars(with = "schema::PhaseId")]
    pub phase: Option<Spanned<String>>,
    /// A readable name; defaults to the id.
    #[schemars(default)]
    pub name: Option<String>,
    /// MITRE ATT&CK technique id (T1234 or T1234.567), used by the ATT&CK Navigator layer.
    #[schemars(with = "String", default, pattern(r"^T[0-9]{4}(\.[0-9]{3})?$"))]
    pub attack: Option<Spanned<String>>,
    /// Relative preference among the phase's techniques: a number > 0 and at most 1e12, or the
    /// name of a numeric environment fact. Default 1.
    #[schemars(with = "schema::Weight", default)]
    pub weight: Option<Spanned<toml::Value>>,
    /// Probability that an attempt succeeds, in [0, 1], or the name of a numeric environment
    /// fact.
    #[schemars(with = "schema::Probability")]
    pub success: Option<Spanned<toml::Value>>,
    /// Boolean environment facts that must hold for the technique to be viable; "!fact" negates.
    #[schemars(with = "Vec<schema::Requirement>", default)]
    pub requires: Option<Vec<Spanned<String>>>,
    /// Attack paths: the technique is viable in a campaign only if that campaign passed an
    /// earlier phase with one of these techniques (ids of techniques of earlier phases).
    #[schemars(with = "Vec<schema::Id>", default)]
    pub after: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[[controls]]`: a defender's control, a course of action at one or more phases.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "action": { "enum": ["deny", "disrupt", "degrade", "destroy"] } }, "required": ["action"] },
    "then" = { "not": { "required": ["response"] } }
))]
pub(crate) struct RawControl {
    /// Unique among techniques and controls.
    #[schemars(with = "schema::Id")]
    pub id: Option<Spanned<String>>,
    /// A readable name; defaults to the id.
    #[schemars(default)]
    pub name: Option<String>,
    /// The course of action.
    #[schemars(with = "schema::Action")]
    pub action: Option<Spanned<String>>,
    /// The phases it acts at: one or more phase ids, each once.
    #[schemars(
        with = "Vec<schema::PhaseId>",
        length(min = 1),
        extend("uniqueItems" = true)
    )]
    pub phases: Option<Spanned<Vec<Spanned<String>>>>,
    /// Only these techniques (of the control's phases): one or more, each once. Omitted, the
    /// control acts on every technique of its phases.
    #[schemars(
        with = "Vec<schema::Id>",
        default,
        length(min = 1),
        extend("uniqueItems" = true)
    )]
    pub techniques: Option<Spanned<Vec<Spanned<String>>>>,
    /// Probability that it fires on an attempt, in [0, 1], or the name of a numeric
    /// environment fact.
    #[schemars(with = "schema::Probability")]
    pub effectiveness: Option<Spanned<toml::Value>>,
    /// `detect` and `deceive` only: probability that the response evicts the adversary, in
    /// [0, 1], or the name of a numeric environment fact. Default 1.
    #[schemars(with = "schema::Probability", default)]
    pub response: Option<Spanned<toml::Value>>,
    /// Whether the control is in place; disabled controls are ignored by `run` and can be
    /// switched on by variants. Default true.
    #[schemars(default)]
    pub enabled: Option<bool>,
    /// Annual cost, an amount in [0, 1e12] (used by `compare` and `rank`).
    #[schemars(with = "f64", default, range(min = 0, max = 1e12))]
    pub cost: Option<Spanned<toml::Value>>,
}

/// `[[variants]]`: a named change to the scenario as written, for `killchain compare`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVariant {
    /// The variant's name, unique and not `baseline`.
    #[schemars(with = "String")]
    pub name: Option<Spanned<String>>,
    /// Ids of controls written with `enabled = false` to switch on, each once.
    #[schemars(with = "Vec<schema::Id>", default, extend("uniqueItems" = true))]
    pub enable: Option<Vec<Spanned<String>>>,
    /// Ids of controls to switch off, each once.
    #[schemars(with = "Vec<schema::Id>", default, extend("uniqueItems" = true))]
    pub disable: Option<Vec<Spanned<String>>>,
    /// `"id.field" = value`; a dotted key written unquoted arrives as a nested table.
    /// Overrides by `environment.<fact>`, `<technique>.weight`, `<technique>.success`,
    /// `<control>.effectiveness`, `<control>.response` or `<control>.cost`.
    #[schemars(with = "BTreeMap<String, schema::SetValue>", default)]
    pub set: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

/// `[loss]`: what a completed attack costs and how often the adversary tries, for expected
/// annual loss, return on security investment and loss exceedance.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoss {
    /// Expected campaigns of this adversary per year (the mean of a Poisson count), in
    /// [0.01, 1e6]. Required with `[adversary]`; with `[[adversaries]]` each adversary states
    /// its own, and this key is refused.
    #[schemars(with = "f64", default, range(min = 0.01, max = 1e6))]
    pub attacks_per_year: Option<Spanned<toml::Value>>,
    /// The loss of one completed attack: a fixed amount, `{ low, high }` (the 5th and 95th
    /// percentiles of a lognormal) or `{ min, mode, max }` (PERT, shape 4). Its keys are checked
    /// in `validate`. Required unless every adversary of `[[adversaries]]` states its own.
    #[schemars(with = "schema::Impact", default)]
    pub impact: Option<Spanned<toml::Value>>,
    /// The currency's label, printed beside amounts (e.g. "USD"); 1 to 16 letters, digits, `.`,
    /// `_` or `-`.
    #[schemars(with = "String", default, pattern(r"^[A-Za-z0-9._-]{1,16}$"))]
    pub currency: Option<Spanned<String>>,
}

/// Schema-only types: what a `toml::Value` or an id field may hold. Never deserialized; they
/// exist so that the generated schema states the rules.
#[allow(dead_code)]
pub(crate) mod schema {
    use schemars::JsonSchema;

    /// An id: letters, digits, `.`, `_` and `-`.
    #[derive(JsonSchema)]
    #[schemars(transparent)]
    pub struct Id(#[schemars(pattern(r"^[A-Za-z0-9._-]+$"))] String);

    /// A phase id (`recon` and `c2` are aliases).
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PhaseId {
        /// Reconnaissance.
        Reconnaissance,
        /// Alias of reconnaissance.
        Recon,
        /// Weaponization.
        Weaponization,
        /// Delivery.
        Delivery,
        /// Exploitation.
        Exploitation,
        /// Installation.
        Installation,
        /// Command and control.
        CommandAndControl,
        /// Alias of command_and_control.
        C2,
        /// Actions on objectives.
        ActionsOnObjectives,
    }

    /// A course of action of the kill-chain paper's matrix.
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Action {
        /// Detect the attempt; a detection is followed by a response roll that may evict.
        Detect,
        /// Prevent the attempt.
        Deny,
        /// Interrupt the running attempt.
        Disrupt,
        /// Lower the attempt's success probability.
        Degrade,
        /// Divert the attempt into a decoy; the response may evict.
        Deceive,
        /// Destroy the adversary's operation after an attempt that ran.
        Destroy,
    }

    /// A probability in [0, 1], or the name of a numeric environment fact.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub enum Probability {
        /// A probability in [0, 1].
        Number(#[schemars(range(min = 0, max = 1))] f64),
        /// The name of a numeric environment fact.
        Fact(Id),
    }

    /// A weight > 0 and at most 1e12, or the name of a numeric environment fact.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub enum Weight {
        /// A weight > 0 and at most 1e12.
        Number(#[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1e12))] f64),
        /// The name of a numeric environment fact.
        Fact(Id),
    }

    /// A seed: an integer from 0 to 2^63 − 1, the largest integer TOML holds.
    #[derive(JsonSchema)]
    #[schemars(transparent)]
    pub struct Seed(#[schemars(range(min = 0, max = 9_223_372_036_854_775_807_i64))] i64);

    /// A boolean fact's name, or "!" and its name for its negation.
    #[derive(JsonSchema)]
    #[schemars(transparent)]
    pub struct Requirement(#[schemars(pattern(r"^!?[A-Za-z0-9._-]+$"))] String);

    /// An environment fact: a boolean or a number.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub enum FactValue {
        /// A boolean fact, for `requires`.
        Boolean(bool),
        /// A numeric fact, read as a probability or a weight.
        Number(f64),
    }

    /// A variant's override: a boolean or number for `environment.<fact>`; a number (or, for
    /// weight, success, effectiveness and response, a numeric fact's name) for the others; a
    /// table when the key was written as an unquoted dotted key (`edr.effectiveness = 0.8`).
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub enum SetValue {
        /// The rest of an unquoted dotted key: `field = value`.
        Table(std::collections::BTreeMap<String, SetValue>),
        /// A boolean (environment facts only).
        Boolean(bool),
        /// A number.
        Number(f64),
        /// The name of a numeric environment fact.
        Fact(Id),
    }

    /// The loss of one completed attack.
    #[derive(JsonSchema)]
    #[serde(untagged)]
    pub enum Impact {
        /// A fixed amount, in [0, 1e12].
        Fixed(#[schemars(range(min = 0, max = 1e12))] f64),
        /// A lognormal given by its 5th and 95th percentiles (0 < low < high).
        LogNormal(ImpactInterval),
        /// A PERT distribution (shape 4) with min <= mode <= max, min < max.
        Pert(ImpactPert),
    }

    /// A lognormal loss given by its 90 % interval.
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ImpactInterval {
        /// The 5th percentile of one completed attack's loss (> 0).
        #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1e12))]
        low: f64,
        /// The 95th percentile of one completed attack's loss (> low).
        #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1e12))]
        high: f64,
    }

    /// A PERT loss (shape 4).
    #[derive(JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ImpactPert {
        /// The smallest loss of one completed attack (>= 0).
        #[schemars(range(min = 0, max = 1e12))]
        min: f64,
        /// The most likely loss (min <= mode <= max).
        #[schemars(range(min = 0, max = 1e12))]
        mode: f64,
        /// The largest loss (> min).
        #[schemars(range(min = 0, max = 1e12))]
        max: f64,
    }
}

/// The JSON Schema (draft 2020-12) of scenario files, generated from these types.
///
/// TOML has no null, so the `null` that schemars allows and proposes for an optional field is
/// taken out; the defaults `validate` applies are put in instead, for an editor to offer.
pub(crate) fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawFile).to_value();
    drop_nulls(&mut schema);
    let defaults: [(&str, &str, serde_json::Value); 6] = [
        ("RawMeta", "trials", super::DEFAULT_TRIALS.into()),
        ("RawMeta", "seed", super::DEFAULT_SEED.into()),
        ("RawAdversary", "max_attempts", 1.into()),
        ("RawTechnique", "weight", 1.into()),
        ("RawControl", "response", 1.into()),
        ("RawControl", "enabled", true.into()),
    ];
    for (def, field, value) in defaults {
        if let Some(property) = schema
            .pointer_mut(&format!("/$defs/{def}/properties/{field}"))
            .and_then(serde_json::Value::as_object_mut)
        {
            property.insert("default".to_owned(), value);
        }
    }
    schema
}

/// Removes `"default": null` and `"null"` from `"type"` lists, everywhere in `value`.
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("default").is_some_and(serde_json::Value::is_null) {
                map.remove("default");
            }
            if let Some(serde_json::Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_owned(), only);
                }
            }
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

//! From the raw mirror to the domain model: every check, every problem collected with its place.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use toml::{Spanned, Value};

use super::diagnostic::{Collector, Diagnostics, did_you_mean};
use super::raw::{
    RawAdversary, RawControl, RawFile, RawLandscapeAdversary, RawLoss, RawMeta, RawSeed,
    RawTechnique,
};
use super::variant::{Catalog, Written};
use super::{
    Adversary, Control, DEFAULT_SEED, DEFAULT_TRIALS, Fact, LandscapeAdversary,
    MAX_PATH_TECHNIQUES, MAX_SEED, MAX_TECHNIQUES_PER_PHASE, MAX_WEIGHT, Probability, Requirement,
    Scenario, Technique, seed_rule, valid_weight,
};
use crate::money::{
    Impact, LossModel, MAX_ATTACKS_PER_YEAR, MAX_COST, MAX_IMPACT, MIN_ATTACKS_PER_YEAR,
};
use crate::phase::{CourseOfAction, N_PHASES, Phase};

/// Most attempts per phase: the engine's tried-set holds 64 techniques.
const MAX_ATTEMPTS: i64 = MAX_TECHNIQUES_PER_PHASE as i64;

/// A technique's `after` list as written, with its spans.
type RawAfter = Spanned<Vec<Spanned<String>>>;

pub(crate) fn parse(source: &str, path: &str) -> Result<Scenario, Diagnostics> {
    let mut c = Collector::new(path, source);
    let raw: RawFile = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            c.error(e.span().unwrap_or(0..0), toml_message(e.message()));
            return Err(c.finish());
        }
    };
    let scenario = Checker { c: &mut c }.scenario(raw);
    match scenario {
        Some(s) if c.is_empty() => Ok(s),
        _ => Err(c.finish()),
    }
}

/// A toml/serde message on one line, with a suggestion for a misspelt field.
fn toml_message(message: &str) -> String {
    let mut text = message.trim().replace('\n', "; ");
    // serde: "unknown field `sucess`, expected one of `id`, `phase`, ..."
    if let Some(rest) = text.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let valid: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let hint = did_you_mean(field, valid.iter().copied());
            text.push_str(&hint);
        }
    }
    text
}

/// An id may hold letters, digits, `.`, `_` and `-`, so it is safe in CSV and on a command line.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A value as a message shows it: a number as [`readable`] writes it, anything else as TOML.
pub(super) fn shown_value(v: &Value) -> String {
    match v {
        Value::Float(x) => readable(*x),
        other => other.to_string(),
    }
}

/// Whether `x` is an acceptable annual cost: in [0, [`MAX_COST`]].
pub(super) fn valid_cost(x: f64) -> bool {
    (0.0..=MAX_COST).contains(&x)
}

/// `T1234` or `T1234.567`.
fn valid_attack_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..5]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9]),
        _ => false,
    }
}

/// A number as a person would write it: plain, or in scientific notation when very large or
/// very small.
pub(crate) fn readable(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

pub(super) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

pub(super) struct Checker<'c, 'a> {
    pub(super) c: &'c mut Collector<'a>,
}

/// Where an id was first defined.
pub(super) struct IdSite {
    /// `technique` or `control`.
    pub(super) kind: &'static str,
    span: Range<usize>,
}

impl Checker<'_, '_> {
    fn scenario(&mut self, raw: RawFile) -> Option<Scenario> {
        let written = Written::scan(&raw);
        let meta = self.meta(raw.scenario);
        let (environment, rejected_facts) = self.environment(raw.environment);
        let mut ids: HashMap<String, IdSite> = HashMap::new();
        let has_loss = raw.loss.is_some();
        let (adversary, adversaries, techniques, broken) = if raw.adversaries.is_empty() {
            let (adversary, techniques, broken) =
                self.adversary(raw.adversary, &environment, &mut ids)?;
            (adversary, Vec::new(), techniques, broken)
        } else {
            if let Some(a) = &raw.adversary {
                self.c.error(
                    a.span(),
                    "a file has either one [adversary] or a landscape of [[adversaries]], not both; move this adversary into [[adversaries]] with an `id`",
                );
            }
            self.landscape(raw.adversaries, &environment, &mut ids, has_loss)?
        };
        // Controls are checked even when some technique is invalid, so every problem is
        // reported at once; references to an invalid technique are not reported again.
        let controls = self.controls(raw.controls, &environment, &techniques, &broken, &mut ids);
        let base_clean = self.c.is_empty();
        // Variants are checked against what the file defines even when the base has problems.
        let catalog = Catalog::new(written, &ids, &environment, rejected_facts);
        let plans = self.variant_plans(raw.variants, &catalog);
        let loss = self.loss(raw.loss, &adversaries);
        let (name, description, trials, seed) = meta?;
        let loss = loss?;
        if !broken.is_empty() {
            return None;
        }
        let base = Scenario {
            name,
            description,
            trials,
            seed,
            environment,
            adversary,
            adversaries,
            techniques,
            controls,
            loss,
            variants: Vec::new(),
        };
        if !base_clean {
            return Some(base);
        }
        let variants = plans
            .into_iter()
            .filter_map(|plan| self.apply_variant(&base, plan))
            .collect();
        Some(Scenario { variants, ..base })
    }

    fn meta(&mut self, raw: Option<Spanned<RawMeta>>) -> Option<(String, String, u64, u64)> {
        let Some(raw) = raw else {
            self.c
                .error(0..0, "missing [scenario] table; it needs at least `name`");
            return None;
        };
        let span = raw.span();
        let raw = raw.into_inner();
        let name = match raw.name {
            Some(n) => n.into_inner(),
            None => {
                self.c.error(span, "[scenario] has no `name`");
                String::new()
            }
        };
        let trials = match raw.trials {
            None => DEFAULT_TRIALS,
            Some(t) if *t.get_ref() >= 1 => *t.get_ref() as u64,
            Some(t) => {
                self.c.error(
                    t.span(),
                    format!("trials must be at least 1, got {}", t.get_ref()),
                );
                0
            }
        };
        let seed = match raw.seed {
            None => DEFAULT_SEED,
            Some(s) => {
                let span = s.span();
                let written = match s.into_inner() {
                    RawSeed::Integer(i) => match u64::try_from(i) {
                        Ok(seed) if seed <= MAX_SEED => Some(seed),
                        _ => None,
                    }
                    .ok_or_else(|| i.to_string()),
                    RawSeed::Other(what) => Err(what),
                };
                written.unwrap_or_else(|what| {
                    self.c.error(span, format!("{}, got {what}", seed_rule()));
                    0
                })
            }
        };
        Some((name, raw.description.unwrap_or_default(), trials, seed))
    }

    /// The facts, and the names of facts rejected (reported here, not again by variants).
    fn environment(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<Value>>,
    ) -> (BTreeMap<String, Fact>, HashSet<String>) {
        let mut env = BTreeMap::new();
        let mut rejected = HashSet::new();
        for (key, value) in raw {
            let name = key.get_ref();
            rejected.insert(name.clone());
            if !valid_id(name) {
                self.c.error(
                    key.span(),
                    format!(
                        "environment fact \"{name}\": a name may hold only letters, digits, '.', '_' and '-'"
                    ),
                );
                continue;
            }
            let fact = match value.get_ref() {
                Value::Boolean(b) => Fact::Bool(*b),
                v => match as_number(v) {
                    Some(x) if x.is_finite() => Fact::Number(x),
                    Some(x) => {
                        self.c.error(
                            value.span(),
                            format!("environment fact \"{name}\" is {x}; a number must be finite"),
                        );
                        continue;
                    }
                    None => {
                        self.c.error(
                            value.span(),
                            format!(
                                "environment fact \"{name}\" is {}; a fact is a boolean or a number",
                                type_name(v)
                            ),
                        );
                        continue;
                    }
                },
            };
            rejected.remove(name);
            env.insert(name.clone(), fact);
        }
        (env, rejected)
    }

    fn claim_id(
        &mut self,
        id: &Spanned<String>,
        kind: &'static str,
        ids: &mut HashMap<String, IdSite>,
    ) -> bool {
        let name = id.get_ref();
        if !valid_id(name) {
            self.c.error(
                id.span(),
                format!(
                    "{kind} id \"{name}\": an id may hold only letters, digits, '.', '_' and '-'"
                ),
            );
            return false;
        }
        if let Some(first) = ids.get(name) {
            let line = self.c.line(first.span.start);
            let among = match (kind, first.kind) {
                ("adversary", _) | (_, "adversary") => "adversaries, techniques and controls",
                _ => "techniques and controls",
            };
            self.c.error(
                id.span(),
                format!(
                    "duplicate id \"{name}\": already used by the {} on line {line}; ids must be unique among {among}",
                    first.kind
                ),
            );
            return false;
        }
        ids.insert(
            name.clone(),
            IdSite {
                kind,
                span: id.span(),
            },
        );
        true
    }

    fn adversary(
        &mut self,
        raw: Option<Spanned<RawAdversary>>,
        env: &BTreeMap<String, Fact>,
        ids: &mut HashMap<String, IdSite>,
    ) -> Option<(Adversary, Vec<Technique>, HashSet<String>)> {
        let Some(raw) = raw else {
            self.c.error(
                0..0,
                "missing [adversary] table (or [[adversaries]]); it needs at least one [[adversary.techniques]] per phase",
            );
            return None;
        };
        let span = raw.span();
        let raw = raw.into_inner();
        self.adversary_table(span, raw, env, ids, None)
    }

    /// One adversary's profile and techniques; `landscape`: its id in a `[[adversaries]]` file.
    fn adversary_table(
        &mut self,
        span: Range<usize>,
        raw: RawAdversary,
        env: &BTreeMap<String, Fact>,
        ids: &mut HashMap<String, IdSite>,
        landscape: Option<(&str, &HashMap<String, String>)>,
    ) -> Option<(Adversary, Vec<Technique>, HashSet<String>)> {
        let max_attempts = match raw.max_attempts {
            None => 1,
            Some(m) if (1..=MAX_ATTEMPTS).contains(m.get_ref()) => *m.get_ref() as u32,
            Some(m) => {
                self.c.error(
                    m.span(),
                    format!(
                        "max_attempts must be between 1 and {MAX_ATTEMPTS}, got {}",
                        m.get_ref()
                    ),
                );
                1
            }
        };
        let mut techniques = Vec::new();
        let mut broken = HashSet::new();
        let mut complete = true;
        let mut afters = Vec::new();
        for t in raw.techniques {
            let id = t.get_ref().id.as_ref().map(|id| id.get_ref().clone());
            match self.technique(t, env, ids) {
                Some((t, after)) => {
                    techniques.push(t);
                    afters.push(after);
                }
                None => {
                    complete = false;
                    broken.extend(id);
                }
            }
        }
        let mut per_phase = [0usize; N_PHASES];
        for t in &techniques {
            per_phase[t.phase.index()] += 1;
        }
        if complete {
            for phase in Phase::ALL {
                let n = per_phase[phase.index()];
                if n == 0 {
                    let message = match landscape.map(|l| l.0) {
                        None => format!(
                            "no technique for phase \"{phase}\"; every phase needs at least one [[adversary.techniques]]"
                        ),
                        Some(id) => format!(
                            "adversary \"{id}\" has no technique for phase \"{phase}\"; every adversary needs at least one [[adversaries.techniques]] per phase"
                        ),
                    };
                    self.c.error(span.clone(), message);
                } else if n > MAX_TECHNIQUES_PER_PHASE {
                    self.c.error(
                        span.clone(),
                        format!(
                            "phase \"{phase}\" has {n} techniques; at most {MAX_TECHNIQUES_PER_PHASE} are supported"
                        ),
                    );
                }
            }
        }
        if complete {
            complete = self.paths(&mut techniques, afters, &span, landscape);
            if !complete {
                broken.insert(String::new());
            }
        }
        let adversary = Adversary {
            name: (raw.name)
                .or_else(|| landscape.map(|l| l.0.to_owned()))
                .unwrap_or_else(|| "Adversary".to_owned()),
            max_attempts,
        };
        if !complete && broken.is_empty() {
            // A technique without an id failed: nothing can name it, but the file is invalid.
            broken.insert(String::new());
        }
        Some((adversary, techniques, broken))
    }

    /// `[[adversaries]]`: each adversary's profile, rate, impact and techniques (renumbered into
    /// one list, each adversary's a contiguous range).
    #[allow(clippy::type_complexity)]
    fn landscape(
        &mut self,
        raw: Vec<Spanned<RawLandscapeAdversary>>,
        env: &BTreeMap<String, Fact>,
        ids: &mut HashMap<String, IdSite>,
        has_loss: bool,
    ) -> Option<(
        Adversary,
        Vec<LandscapeAdversary>,
        Vec<Technique>,
        HashSet<String>,
    )> {
        let several = raw.len() > 1;
        // Which adversary each technique id belongs to, so that an `after` naming another
        // adversary's technique says so.
        let owners: HashMap<String, String> = (raw.iter())
            .filter_map(|a| {
                let a = a.get_ref();
                let owner = a.id.as_ref()?.get_ref().clone();
                Some((a.techniques.iter(), owner))
            })
            .flat_map(|(ts, owner)| {
                ts.filter_map(|t| t.get_ref().id.as_ref().map(|id| id.get_ref().clone()))
                    .map(move |id| (id, owner.clone()))
            })
            .collect();
        let mut adversaries = Vec::new();
        let mut techniques: Vec<Technique> = Vec::new();
        let mut broken = HashSet::new();
        let mut ok = true;
        let first_span = raw.first().map_or(0..0, Spanned::span);
        for a in raw {
            let span = a.span();
            let a = a.into_inner();
            let Some(id) = a.id else {
                self.c.error(
                    span.clone(),
                    "adversary has no `id`; every [[adversaries]] needs one, unique among adversaries, techniques and controls",
                );
                ok = false;
                // Its techniques are still checked (and their ids claimed), so that controls
                // naming them are not reported again.
                let table = RawAdversary {
                    name: a.name,
                    max_attempts: a.max_attempts,
                    techniques: a.techniques,
                };
                if let Some((_, own, own_broken)) =
                    self.adversary_table(span, table, env, ids, Some(("(no id)", &owners)))
                {
                    broken.extend(own_broken);
                    broken.extend(own.into_iter().map(|t| t.id));
                }
                continue;
            };
            ok &= self.claim_id(&id, "adversary", ids);
            let aid = id.get_ref().clone();
            let attacks_per_year = match &a.attacks_per_year {
                Some(v) => {
                    let x =
                        self.attacks_per_year(v, &format!("adversary \"{aid}\": attacks_per_year"));
                    ok &= x.is_some();
                    x
                }
                None if has_loss || several => {
                    let why = if has_loss {
                        "the file has [loss]"
                    } else {
                        "the landscape has several adversaries"
                    };
                    self.c.error(
                        id.span(),
                        format!(
                            "adversary \"{aid}\" has no `attacks_per_year` (expected campaigns per year); every adversary needs one when {why}"
                        ),
                    );
                    ok = false;
                    None
                }
                None => None,
            };
            let impact = match &a.impact {
                Some(i) if !has_loss => {
                    self.c.error(
                        i.span(),
                        format!(
                            "adversary \"{aid}\": `impact` needs a [loss] table (its currency and the default impact); add [loss] or remove this impact"
                        ),
                    );
                    ok = false;
                    None
                }
                Some(i) => {
                    let x = self.impact(i, &format!("adversary \"{aid}\": impact"));
                    ok &= x.is_some();
                    x
                }
                None => None,
            };
            let table = RawAdversary {
                name: a.name,
                max_attempts: a.max_attempts,
                techniques: a.techniques,
            };
            let Some((profile, own, own_broken)) =
                self.adversary_table(span, table, env, ids, Some((&aid, &owners)))
            else {
                ok = false;
                continue;
            };
            broken.extend(own_broken);
            let start = techniques.len();
            techniques.extend(own.into_iter().map(|mut t| {
                t.after.iter_mut().for_each(|i| *i += start);
                t
            }));
            adversaries.push(LandscapeAdversary {
                id: aid,
                profile,
                techniques: start..techniques.len(),
                attacks_per_year,
                impact,
                enabled: a.enabled.unwrap_or(true),
            });
        }
        if ok && !adversaries.iter().any(|a| a.enabled) {
            self.c.error(
                first_span,
                "every adversary of [[adversaries]] is disabled (`enabled = false`); enable at least one",
            );
            ok = false;
        }
        if !ok && broken.is_empty() {
            broken.insert(String::new());
        }
        let first = adversaries.first()?.profile.clone();
        Some((first, adversaries, techniques, broken))
    }

    /// Expected campaigns per year: a number in the accepted range, or the problem reported.
    fn attacks_per_year(&mut self, v: &Spanned<Value>, what: &str) -> Option<f64> {
        match as_number(v.get_ref()) {
            Some(x) if (MIN_ATTACKS_PER_YEAR..=MAX_ATTACKS_PER_YEAR).contains(&x) => Some(x),
            _ => {
                self.c.error(
                    v.span(),
                    format!(
                        "{what} must be a number in [{}, {}] (expected campaigns per year), got {}",
                        readable(MIN_ATTACKS_PER_YEAR),
                        readable(MAX_ATTACKS_PER_YEAR),
                        v.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// Resolves every technique's `after` list (ids of techniques of earlier phases); false when
    /// one is wrong.
    fn paths(
        &mut self,
        techniques: &mut [Technique],
        afters: Vec<Option<RawAfter>>,
        span: &std::ops::Range<usize>,
        landscape: Option<(&str, &HashMap<String, String>)>,
    ) -> bool {
        let by_id: HashMap<String, usize> = (techniques.iter().enumerate())
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let mut ok = true;
        for (ti, list) in afters.into_iter().enumerate() {
            let Some(list) = list else { continue };
            let (tid, phase) = (techniques[ti].id.clone(), techniques[ti].phase);
            let earlier: Vec<&str> = (techniques.iter())
                .filter(|t| t.phase < phase)
                .map(|t| t.id.as_str())
                .collect();
            if list.get_ref().is_empty() {
                self.c.error(
                    list.span(),
                    format!(
                        "technique \"{tid}\": `after` is empty, so no campaign could use it; omit `after` to allow every path, or name techniques of earlier phases"
                    ),
                );
                ok = false;
                continue;
            }
            let mut resolved = Vec::new();
            for name in list.get_ref() {
                let text = name.get_ref();
                match by_id.get(text) {
                    Some(&i) if techniques[i].phase >= phase => {
                        self.c.error(
                            name.span(),
                            format!(
                                "technique \"{tid}\" ({phase}): `after` names \"{text}\", a technique of phase \"{}\"; a path runs forward, so `after` may name only techniques of earlier phases{}",
                                techniques[i].phase,
                                known_list("techniques of earlier phases", &earlier)
                            ),
                        );
                        ok = false;
                    }
                    Some(&i) if resolved.contains(&i) => {
                        self.c.error(
                            name.span(),
                            format!("technique \"{tid}\": `after` lists \"{text}\" twice"),
                        );
                        ok = false;
                    }
                    Some(&i) => resolved.push(i),
                    None if landscape.is_some_and(|(_, owners)| owners.contains_key(text)) => {
                        let (me, owners) = landscape.expect("a landscape");
                        self.c.error(
                            name.span(),
                            format!(
                                "technique \"{tid}\" of adversary \"{me}\": `after` names \"{text}\", a technique of adversary \"{}\"; a path stays within one adversary's campaign{}",
                                owners[text],
                                known_list("techniques of earlier phases", &earlier)
                            ),
                        );
                        ok = false;
                    }
                    None => {
                        self.c.error(
                            name.span(),
                            format!(
                                "technique \"{tid}\": `after` names unknown technique \"{text}\"{}{}",
                                known_list("techniques of earlier phases", &earlier),
                                self.c.hint(text, earlier.iter().copied())
                            ),
                        );
                        ok = false;
                    }
                }
            }
            techniques[ti].after = resolved;
        }
        let named: HashSet<usize> = techniques
            .iter()
            .flat_map(|t| t.after.iter().copied())
            .collect();
        if ok && named.len() > MAX_PATH_TECHNIQUES {
            self.c.error(
                span.clone(),
                format!(
                    "`after` lists name {} distinct techniques; at most {MAX_PATH_TECHNIQUES} are supported",
                    named.len()
                ),
            );
            ok = false;
        }
        ok
    }

    fn technique(
        &mut self,
        raw: Spanned<RawTechnique>,
        env: &BTreeMap<String, Fact>,
        ids: &mut HashMap<String, IdSite>,
    ) -> Option<(Technique, Option<RawAfter>)> {
        let span = raw.span();
        let raw = raw.into_inner();
        let Some(id) = raw.id else {
            self.c.error(span, "technique has no `id`");
            return None;
        };
        let mut ok = self.claim_id(&id, "technique", ids);
        let tid = id.get_ref().clone();
        let what = |field: &str| format!("technique \"{tid}\": {field}");

        let phase = match &raw.phase {
            None => {
                self.c.error(
                    id.span(),
                    format!(
                        "technique \"{tid}\" has no `phase`; phases are {}",
                        phase_list()
                    ),
                );
                None
            }
            Some(p) => self.phase(p, &format!("technique \"{tid}\"")),
        };
        if let Some(attack) = &raw.attack {
            if !valid_attack_id(attack.get_ref()) {
                self.c.error(
                    attack.span(),
                    format!(
                        "{} \"{}\" is not an ATT&CK technique id; expected T followed by four digits, optionally .NNN (e.g. T1566.001)",
                        what("attack"),
                        attack.get_ref()
                    ),
                );
                ok = false;
            }
        }
        let weight = match &raw.weight {
            None => Some((1.0, None)),
            Some(w) => self.weight(w, env, &what("weight")),
        };
        let success = match &raw.success {
            None => {
                self.c.error(
                    id.span(),
                    format!("technique \"{tid}\" has no `success` probability"),
                );
                None
            }
            Some(s) => self.probability(s, env, &what("success")),
        };
        let mut requires = Vec::new();
        let mut viable = true;
        for r in raw.requires.iter().flatten() {
            let text = r.get_ref();
            let (fact, holds) = match text.strip_prefix('!') {
                Some(rest) => (rest, false),
                None => (text.as_str(), true),
            };
            match env.get(fact) {
                Some(Fact::Bool(b)) => {
                    viable &= *b == holds;
                    requires.push(Requirement {
                        fact: fact.to_owned(),
                        holds,
                    });
                }
                Some(Fact::Number(x)) => {
                    self.c.error(
                        r.span(),
                        format!(
                            "{} names environment fact \"{fact}\" = {x}, a number; `requires` needs a boolean fact",
                            what("requires")
                        ),
                    );
                    ok = false;
                }
                None => {
                    let bools = env.iter().filter(|(_, f)| matches!(f, Fact::Bool(_)));
                    let names: Vec<&str> = bools.map(|(k, _)| k.as_str()).collect();
                    self.c.error(
                        r.span(),
                        format!(
                            "{} names unknown environment fact \"{fact}\"{}{}",
                            what("requires"),
                            known_list("boolean facts", &names),
                            self.c.hint(fact, names.iter().copied())
                        ),
                    );
                    ok = false;
                }
            }
        }
        let (Some(phase), Some((weight, weight_fact)), Some((success, success_fact)), true) =
            (phase, weight, success, ok)
        else {
            return None;
        };
        let technique = Technique {
            name: raw.name.unwrap_or_else(|| tid.clone()),
            id: tid,
            phase,
            attack: raw.attack.map(Spanned::into_inner),
            weight,
            weight_fact,
            success,
            success_fact,
            requires,
            viable,
            after: Vec::new(),
        };
        Some((technique, raw.after))
    }

    /// Parses a phase id; `owner` names the technique or control, e.g. `control "edr"`.
    fn phase(&mut self, p: &Spanned<String>, owner: &str) -> Option<Phase> {
        let text = p.get_ref();
        let phase = Phase::from_id(text);
        if phase.is_none() {
            self.c.error(
                p.span(),
                format!(
                    "{owner}: unknown phase \"{text}\"; phases are {}{}",
                    phase_list(),
                    did_you_mean(text, Phase::spellings())
                ),
            );
        }
        phase
    }

    /// A literal probability or the name of a numeric environment fact.
    pub(super) fn probability(
        &mut self,
        v: &Spanned<Value>,
        env: &BTreeMap<String, Fact>,
        what: &str,
    ) -> Option<(Probability, Option<String>)> {
        match v.get_ref() {
            Value::String(name) => {
                let x = self.numeric_fact(v, name, env, what, "a probability")?;
                match Probability::new(x) {
                    Some(p) => Some((p, Some(name.clone()))),
                    None => {
                        self.c.error(
                            v.span(),
                            format!(
                                "{what} names environment fact \"{name}\" = {x}, which is outside [0, 1]"
                            ),
                        );
                        None
                    }
                }
            }
            other => match as_number(other) {
                Some(x) => match Probability::new(x) {
                    Some(p) => Some((p, None)),
                    None => {
                        self.c
                            .error(v.span(), format!("{what} {x} is outside [0, 1]"));
                        None
                    }
                },
                None => {
                    self.c.error(
                        v.span(),
                        format!(
                            "{what} is {}; expected a probability in [0, 1] or the name of a numeric environment fact",
                            type_name(other)
                        ),
                    );
                    None
                }
            },
        }
    }

    /// A literal technique weight or the name of a numeric environment fact, as `success` may
    /// name one: an estate's exposure (hosts, users, exposed services) often sets how much an
    /// adversary favours a technique, and a variant that changes the fact moves the weight.
    pub(super) fn weight(
        &mut self,
        v: &Spanned<Value>,
        env: &BTreeMap<String, Fact>,
        what: &str,
    ) -> Option<(f64, Option<String>)> {
        let (x, fact) = match v.get_ref() {
            Value::String(name) => {
                let x = self.numeric_fact(v, name, env, what, "a weight")?;
                (x, Some(name.clone()))
            }
            other => match as_number(other) {
                Some(x) => (x, None),
                None => {
                    self.c.error(
                        v.span(),
                        format!(
                            "{what} is {}; expected a number > 0 and at most {MAX_WEIGHT:e} or the name of a numeric environment fact",
                            type_name(other)
                        ),
                    );
                    return None;
                }
            },
        };
        if valid_weight(x) {
            return Some((x, fact));
        }
        let message = match &fact {
            Some(name) => format!(
                "{what} names environment fact \"{name}\" = {}, which is not a number > 0 and at most {MAX_WEIGHT:e}",
                readable(x)
            ),
            None => format!(
                "{what} {} must be a number > 0 and at most {MAX_WEIGHT:e}",
                readable(x)
            ),
        };
        self.c.error(v.span(), message);
        None
    }

    /// The value of the numeric fact `name`, or `None` after reporting that it is unknown or a
    /// boolean; `needs` is what the field holds ("a probability"), for the message.
    fn numeric_fact(
        &mut self,
        v: &Spanned<Value>,
        name: &str,
        env: &BTreeMap<String, Fact>,
        what: &str,
        needs: &str,
    ) -> Option<f64> {
        match env.get(name) {
            Some(Fact::Number(x)) => Some(*x),
            Some(Fact::Bool(b)) => {
                self.c.error(
                    v.span(),
                    format!(
                        "{what} names environment fact \"{name}\" = {b}, a boolean; {needs} needs a numeric fact"
                    ),
                );
                None
            }
            None => {
                let numbers = env.iter().filter(|(_, f)| matches!(f, Fact::Number(_)));
                let names: Vec<&str> = numbers.map(|(k, _)| k.as_str()).collect();
                self.c.error(
                    v.span(),
                    format!(
                        "{what} names unknown environment fact \"{name}\"{}{}",
                        known_list("numeric facts", &names),
                        self.c.hint(name, names.iter().copied())
                    ),
                );
                None
            }
        }
    }

    fn controls(
        &mut self,
        raw: Vec<Spanned<RawControl>>,
        env: &BTreeMap<String, Fact>,
        techniques: &[Technique],
        broken: &HashSet<String>,
        ids: &mut HashMap<String, IdSite>,
    ) -> Vec<Control> {
        let by_id: HashMap<&str, usize> = techniques
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        raw.into_iter()
            .filter_map(|r| self.control(r, env, techniques, &by_id, broken, ids))
            .collect()
    }

    fn control(
        &mut self,
        raw: Spanned<RawControl>,
        env: &BTreeMap<String, Fact>,
        techniques: &[Technique],
        by_id: &HashMap<&str, usize>,
        broken: &HashSet<String>,
        ids: &mut HashMap<String, IdSite>,
    ) -> Option<Control> {
        let span = raw.span();
        let raw = raw.into_inner();
        let Some(id) = raw.id else {
            self.c.error(span, "control has no `id`");
            return None;
        };
        let mut ok = self.claim_id(&id, "control", ids);
        let cid = id.get_ref().clone();
        let what = |field: &str| format!("control \"{cid}\": {field}");

        let action = match &raw.action {
            None => {
                self.c.error(
                    id.span(),
                    format!(
                        "control \"{cid}\" has no `action`; actions are {}",
                        action_list()
                    ),
                );
                None
            }
            Some(a) => {
                let text = a.get_ref();
                let action = CourseOfAction::from_id(text);
                if action.is_none() {
                    self.c.error(
                        a.span(),
                        format!(
                            "control \"{cid}\": unknown course of action \"{text}\"; actions are {}{}",
                            action_list(),
                            did_you_mean(text, CourseOfAction::ENGINE_ORDER.map(|a| a.id()))
                        ),
                    );
                }
                action
            }
        };
        let mut phases = Vec::new();
        match &raw.phases {
            None => {
                self.c.error(
                    id.span(),
                    format!("control \"{cid}\" has no `phases`; give one or more phase ids"),
                );
                ok = false;
            }
            Some(list) if list.get_ref().is_empty() => {
                self.c.error(
                    list.span(),
                    format!("{} is empty; give one or more phase ids", what("phases")),
                );
                ok = false;
            }
            Some(list) => {
                for p in list.get_ref() {
                    match self.phase(p, &format!("control \"{cid}\"")) {
                        Some(phase) if phases.contains(&phase) => {
                            self.c.error(
                                p.span(),
                                format!("{} lists \"{phase}\" twice", what("phases")),
                            );
                            ok = false;
                        }
                        Some(phase) => phases.push(phase),
                        None => ok = false,
                    }
                }
            }
        }
        phases.sort();
        let mut only = None;
        if let Some(list) = &raw.techniques {
            if list.get_ref().is_empty() {
                self.c.error(
                    list.span(),
                    format!(
                        "{} is empty, so the control would act on nothing; omit `techniques` to act on every technique of its phases, or name at least one",
                        what("techniques")
                    ),
                );
                ok = false;
            }
            let mut chosen = Vec::new();
            let mut listed = vec![false; techniques.len()];
            // The ids a message about an unknown one lists, found once per control.
            let mut in_phases: Option<Vec<&str>> = None;
            for t in list.get_ref() {
                let name = t.get_ref();
                match by_id.get(name.as_str()) {
                    Some(&i) if ok && !phases.contains(&techniques[i].phase) => {
                        self.c.error(
                            t.span(),
                            format!(
                                "control \"{cid}\": technique \"{name}\" is in phase \"{}\", not one of the control's phases ({})",
                                techniques[i].phase,
                                phases.iter().map(|p| p.id()).collect::<Vec<_>>().join(", ")
                            ),
                        );
                        ok = false;
                    }
                    Some(&i) if listed[i] => {
                        self.c.error(
                            t.span(),
                            format!("{} lists \"{name}\" twice", what("techniques")),
                        );
                        ok = false;
                    }
                    Some(&i) => {
                        listed[i] = true;
                        chosen.push(i);
                    }
                    None if broken.contains(name.as_str()) => ok = false,
                    None => {
                        let in_phases = in_phases.get_or_insert_with(|| {
                            techniques
                                .iter()
                                .filter(|t| phases.is_empty() || phases.contains(&t.phase))
                                .map(|t| t.id.as_str())
                                .collect()
                        });
                        self.c.error(
                            t.span(),
                            format!(
                                "control \"{cid}\": unknown technique \"{name}\" in `techniques`{}{}",
                                known_list("techniques in its phases", in_phases),
                                self.c.hint(name, in_phases.iter().copied())
                            ),
                        );
                        ok = false;
                    }
                }
            }
            chosen.sort_unstable();
            only = Some(chosen);
        }
        let effectiveness = match &raw.effectiveness {
            None => {
                self.c.error(
                    id.span(),
                    format!("control \"{cid}\" has no `effectiveness` probability"),
                );
                None
            }
            Some(e) => self.probability(e, env, &what("effectiveness")),
        };
        let mut response = Some((Probability::ONE, None));
        if let Some(r) = &raw.response {
            match action {
                Some(a) if !a.has_response() => {
                    self.c.error(
                        r.span(),
                        format!(
                            "{} applies only to detect and deceive controls; this one is \"{a}\"",
                            what("response")
                        ),
                    );
                    ok = false;
                }
                _ => response = self.probability(r, env, &what("response")),
            }
        }
        let cost = match &raw.cost {
            None => Some(None),
            Some(c) => match as_number(c.get_ref()) {
                Some(x) if valid_cost(x) => Some(Some(x)),
                _ => {
                    self.c.error(
                        c.span(),
                        format!(
                            "{} must be an amount in [0, {}] (annual cost), got {}",
                            what("cost"),
                            readable(MAX_COST),
                            shown_value(c.get_ref())
                        ),
                    );
                    None
                }
            },
        };
        let (
            Some(action),
            Some((effectiveness, effectiveness_fact)),
            Some((response, response_fact)),
            Some(cost),
            true,
        ) = (action, effectiveness, response, cost, ok)
        else {
            return None;
        };
        Some(Control {
            name: raw.name.unwrap_or_else(|| cid.clone()),
            id: cid,
            action,
            phases,
            techniques: only,
            effectiveness,
            effectiveness_fact,
            response,
            response_fact,
            enabled: raw.enabled.unwrap_or(true),
            cost,
        })
    }
}

/// Most characters in a currency label.
const MAX_CURRENCY_CHARS: usize = 16;

impl Checker<'_, '_> {
    /// `[loss]`: `Some(None)` when absent, `None` when it has problems (reported).
    ///
    /// In a landscape (`adversaries` not empty) each adversary gives its rate and may give its
    /// impact; the file's model then holds the currency, the default impact (else the first
    /// enabled adversary's) and the enabled adversaries' total rate.
    fn loss(
        &mut self,
        raw: Option<Spanned<RawLoss>>,
        adversaries: &[LandscapeAdversary],
    ) -> Option<Option<LossModel>> {
        let Some(raw) = raw else {
            return Some(None);
        };
        let span = raw.span();
        let raw = raw.into_inner();
        if !adversaries.is_empty() {
            return self.landscape_loss(span, raw, adversaries);
        }
        let attacks_per_year = match &raw.attacks_per_year {
            None => {
                self.c.error(
                    span.clone(),
                    "[loss] has no `attacks_per_year` (expected campaigns of this adversary per year)",
                );
                None
            }
            Some(a) => self.attacks_per_year(a, "loss.attacks_per_year"),
        };
        let impact = match &raw.impact {
            None => {
                self.c.error(
                    span,
                    "[loss] has no `impact`; give an amount, { low = …, high = … } (lognormal 5th and 95th percentiles) or { min = …, mode = …, max = … } (PERT)",
                );
                None
            }
            Some(i) => self.impact(i, "loss.impact"),
        };
        let currency = self.currency(&raw);
        Some(Some(LossModel {
            attacks_per_year: attacks_per_year?,
            impact: impact?,
            currency: currency?,
        }))
    }

    /// `[loss]` of a landscape: no rate of its own, an impact unless every adversary has one.
    fn landscape_loss(
        &mut self,
        span: Range<usize>,
        raw: RawLoss,
        adversaries: &[LandscapeAdversary],
    ) -> Option<Option<LossModel>> {
        let mut ok = true;
        if let Some(a) = &raw.attacks_per_year {
            self.c.error(
                a.span(),
                "loss.attacks_per_year: in a landscape each adversary of [[adversaries]] gives its own `attacks_per_year`; remove it here",
            );
            ok = false;
        }
        let impact = match &raw.impact {
            Some(i) => self.impact(i, "loss.impact"),
            None => {
                let without: Vec<&str> = (adversaries.iter())
                    .filter(|a| a.impact.is_none())
                    .map(|a| a.id.as_str())
                    .collect();
                if without.is_empty() {
                    adversaries
                        .iter()
                        .find(|a| a.enabled)
                        .and_then(|a| a.impact)
                } else {
                    self.c.error(
                        span,
                        format!(
                            "[loss] has no `impact`, and {} of the adversaries give none of their own ({}); give a default impact here or one on each adversary",
                            without.len(),
                            without.join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let currency = self.currency(&raw);
        let attacks_per_year: f64 = (adversaries.iter())
            .filter(|a| a.enabled)
            .filter_map(|a| a.attacks_per_year)
            .sum();
        if !ok {
            return None;
        }
        Some(Some(LossModel {
            attacks_per_year,
            impact: impact?,
            currency: currency?,
        }))
    }

    fn currency(&mut self, raw: &RawLoss) -> Option<String> {
        match &raw.currency {
            None => Some(String::new()),
            Some(c) => {
                let text = c.get_ref();
                if valid_id(text) && text.chars().count() <= MAX_CURRENCY_CHARS {
                    Some(text.clone())
                } else {
                    self.c.error(
                        c.span(),
                        format!(
                            "loss.currency must be a label of 1 to {MAX_CURRENCY_CHARS} letters, digits, `.`, `_` or `-` such as \"USD\", got {text:?}"
                        ),
                    );
                    None
                }
            }
        }
    }

    /// An impact's three forms; `field` names it in messages (`loss.impact`, or an adversary's).
    fn impact(&mut self, raw: &Spanned<Value>, field: &str) -> Option<Impact> {
        let shape = format!(
            "{field} must be an amount, {{ low = …, high = … }} (lognormal 5th and 95th percentiles) or {{ min = …, mode = …, max = … }} (PERT)"
        );
        let amount = |v: &Value| as_number(v).filter(|x| (0.0..=MAX_IMPACT).contains(x));
        let table = match raw.get_ref() {
            Value::Table(t) => t,
            v => {
                return match amount(v) {
                    Some(x) => Some(Impact::Fixed(x)),
                    None if as_number(v).is_some() => {
                        self.c.error(
                            raw.span(),
                            format!(
                                "{field} must be an amount in [0, {}], got {v}",
                                readable(MAX_IMPACT)
                            ),
                        );
                        None
                    }
                    None => {
                        self.c
                            .error(raw.span(), format!("{shape}, got {}", type_name(v)));
                        None
                    }
                };
            }
        };
        const KEYS: [&str; 5] = ["low", "high", "min", "mode", "max"];
        let mut ok = true;
        for key in table.keys() {
            if !KEYS.contains(&key.as_str()) {
                self.c.error(
                    raw.span(),
                    format!(
                        "{field}: unknown key \"{key}\"; keys are low and high (lognormal) or min, mode and max (PERT){}",
                        did_you_mean(key, KEYS)
                    ),
                );
                ok = false;
            }
        }
        let mut get = |key: &str| -> Option<f64> {
            let v = table.get(key)?;
            let x = amount(v);
            if x.is_none() {
                self.c.error(
                    raw.span(),
                    format!(
                        "{field}.{key} must be an amount in [0, {}], got {v}",
                        readable(MAX_IMPACT)
                    ),
                );
                ok = false;
            }
            x
        };
        let [low, high, min, mode, max] = KEYS.map(&mut get);
        if !ok {
            return None;
        }
        let has = |k: &str| table.contains_key(k);
        match (
            has("low") || has("high"),
            has("min") || has("mode") || has("max"),
        ) {
            (true, false) => match (low, high) {
                (Some(low), Some(high)) if low > 0.0 && low < high => {
                    Some(Impact::LogNormal { low, high })
                }
                (Some(low), Some(high)) => {
                    self.c.error(
                        raw.span(),
                        format!(
                            "{field}: low ({}) must be above 0 and below high ({})",
                            readable(low),
                            readable(high)
                        ),
                    );
                    None
                }
                _ => {
                    self.c.error(
                        raw.span(),
                        format!("{field}: a lognormal impact needs both low (5th percentile) and high (95th percentile)"),
                    );
                    None
                }
            },
            (false, true) => match (min, mode, max) {
                (Some(min), Some(mode), Some(max)) if min <= mode && mode <= max && min < max => {
                    Some(Impact::Pert { min, mode, max })
                }
                (Some(min), Some(mode), Some(max)) => {
                    self.c.error(
                        raw.span(),
                        format!(
                            "{field}: a PERT impact needs min <= mode <= max and min < max, got min {}, mode {}, max {}",
                            readable(min),
                            readable(mode),
                            readable(max)
                        ),
                    );
                    None
                }
                _ => {
                    self.c.error(
                        raw.span(),
                        format!("{field}: a PERT impact needs min, mode and max"),
                    );
                    None
                }
            },
            _ => {
                self.c.error(
                    raw.span(),
                    format!("{shape}; it cannot mix lognormal and PERT keys"),
                );
                None
            }
        }
    }
}

fn phase_list() -> String {
    Phase::ALL.map(Phase::id).join(", ")
}

fn action_list() -> String {
    CourseOfAction::ENGINE_ORDER.map(|a| a.id()).join(", ")
}

/// Most names a message lists; a longer list ends with how many more there are, so that one
/// message stays readable and a file with thousands of ids cannot make every message huge.
const MAX_LISTED: usize = 100;

pub(super) fn known_list(what: &str, names: &[&str]) -> String {
    match names.len() {
        0 => format!("; the scenario defines no {what}"),
        n if n > MAX_LISTED => format!(
            "; {what}: {}, and {} more",
            names[..MAX_LISTED].join(", "),
            n - MAX_LISTED
        ),
        _ => format!("; {what}: {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_have_the_attack_shape() {
        for good in ["T1566", "T1566.001", "T0001"] {
            assert!(valid_attack_id(good), "{good}");
        }
        for bad in [
            "t1566",
            "T156",
            "T1566.01",
            "T1566-001",
            "T15660",
            "X1566.001",
        ] {
            assert!(!valid_attack_id(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_restricted_to_a_csv_safe_alphabet() {
        assert!(valid_id("mail-sandbox_2.0"));
        assert!(!valid_id(""));
        assert!(!valid_id("=cmd"));
        assert!(!valid_id("two words"));
    }

    #[test]
    fn unknown_field_messages_gain_a_suggestion() {
        let m = toml_message("unknown field `sucess`, expected one of `id`, `phase`, `success`");
        assert!(m.ends_with("; did you mean \"success\"?"), "{m}");
    }
}

//! `[[variants]]`: named changes to the scenario as written, checked as strictly as the rest of
//! the file and built into complete scenarios.
//!
//! Checking runs in two steps. [`Checker::variant_plans`] checks each variant against what the
//! file defines (names, ids, fields, facts and their types, values and their ranges), also when
//! the base scenario has problems, so that every problem is reported at once.
//! [`Checker::apply_variant`] then applies a clean plan to the valid base scenario and re-resolves
//! everything that depends on environment facts: probabilities and weights read from facts and
//! the viability of techniques.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::{Spanned, Value};

use super::diagnostic::did_you_mean;
use super::raw::{RawFile, RawVariant};
use super::validate::{
    Checker, IdSite, as_number, known_list, readable, shown_value, valid_cost, valid_id,
};
use super::{BASELINE, Fact, MAX_WEIGHT, Probability, Scenario, Variant, valid_weight};
use crate::phase::CourseOfAction;

/// What a `set` key may look like, for messages.
const SET_KEYS: &str = "environment.<fact>, <technique>.weight, <technique>.success, \
                        <control>.effectiveness, <control>.response and <control>.cost";

/// Technique and control ids as written in the file, before any checking.
pub(super) struct Written {
    techniques: Vec<String>,
    controls: Vec<(String, Option<CourseOfAction>)>,
}

impl Written {
    pub(super) fn scan(raw: &RawFile) -> Written {
        let landscape = raw.adversaries.iter().flat_map(|a| &a.get_ref().techniques);
        let techniques = raw
            .adversary
            .iter()
            .flat_map(|a| &a.get_ref().techniques)
            .chain(landscape)
            .filter_map(|t| t.get_ref().id.as_ref())
            .map(|id| id.get_ref().clone())
            .collect();
        let controls = raw
            .controls
            .iter()
            .filter_map(|c| {
                let c = c.get_ref();
                let id = c.id.as_ref()?.get_ref().clone();
                let action = c
                    .action
                    .as_ref()
                    .and_then(|a| CourseOfAction::from_id(a.get_ref()));
                Some((id, action))
            })
            .collect();
        Written {
            techniques,
            controls,
        }
    }
}

/// What a variant may name: the file's ids and facts, as far as the base checks accepted them.
pub(super) struct Catalog {
    /// Technique ids, in file order.
    techniques: Vec<String>,
    /// Control ids, in file order.
    controls: Vec<String>,
    /// Each control's course of action, where it is known.
    actions: HashMap<String, Option<CourseOfAction>>,
    /// Ids written in the file that the base checks rejected: reported there, not again.
    rejected: HashSet<String>,
    /// The facts of `[environment]` that were accepted.
    environment: BTreeMap<String, Fact>,
    /// Facts of `[environment]` that the base checks rejected.
    rejected_facts: HashSet<String>,
    /// A landscape's adversary ids, which variants cannot change yet.
    adversaries: HashSet<String>,
}

impl Catalog {
    pub(super) fn new(
        written: Written,
        ids: &HashMap<String, IdSite>,
        environment: &BTreeMap<String, Fact>,
        rejected_facts: HashSet<String>,
    ) -> Catalog {
        let kind = |id: &str| ids.get(id).map(|site| site.kind);
        let mut rejected = HashSet::new();
        let mut seen = HashSet::new();
        let mut techniques = Vec::new();
        for id in written.techniques {
            match kind(&id) {
                Some("technique") if seen.insert(id.clone()) => techniques.push(id),
                Some(_) => {}
                None => {
                    rejected.insert(id);
                }
            }
        }
        let mut controls = Vec::new();
        let mut actions = HashMap::new();
        for (id, action) in written.controls {
            match kind(&id) {
                Some("control") if seen.insert(id.clone()) => {
                    actions.insert(id.clone(), action);
                    controls.push(id);
                }
                Some(_) => {}
                None => {
                    rejected.insert(id);
                }
            }
        }
        let adversaries = (ids.iter())
            .filter(|(_, site)| site.kind == "adversary")
            .map(|(id, _)| id.clone())
            .collect();
        Catalog {
            techniques,
            controls,
            actions,
            rejected,
            environment: environment.clone(),
            rejected_facts,
            adversaries,
        }
    }

    fn is_technique(&self, id: &str) -> bool {
        // Techniques and controls share one id space, so an id that is no control's is a
        // technique's exactly when the base checks claimed it for a technique.
        !self.actions.contains_key(id) && self.techniques.iter().any(|t| t == id)
    }

    fn control_names(&self) -> Vec<&str> {
        self.controls.iter().map(String::as_str).collect()
    }

    fn technique_names(&self) -> Vec<&str> {
        self.techniques.iter().map(String::as_str).collect()
    }
}

/// One checked variant, ready to apply to the base scenario.
pub(super) struct Plan {
    name: String,
    /// `variant "name"`, for messages.
    label: String,
    /// Where the variant is defined.
    span: Range<usize>,
    enable: Vec<String>,
    disable: Vec<String>,
    /// Changed facts, with the span of the new value.
    facts: Vec<(String, Fact, Range<usize>)>,
    /// Changed parameters, in file order.
    changes: Vec<Change>,
}

/// One changed parameter of a technique or control, by id.
enum Change {
    Weight(String, f64, Option<String>),
    Success(String, Probability, Option<String>),
    Effectiveness(String, Probability, Option<String>),
    Response(String, Probability, Option<String>),
    Cost(String, f64),
}

/// What a `set` key names.
enum Target {
    Fact(String),
    Technique(String, &'static str),
    Control(String, &'static str),
}

/// One `set` entry, its dotted key flattened.
struct SetEntry {
    key: String,
    key_span: Range<usize>,
    value: Spanned<Value>,
}

impl Checker<'_, '_> {
    /// Checks every `[[variants]]` table; returns the plans of those without problems.
    pub(super) fn variant_plans(
        &mut self,
        raw: Vec<Spanned<RawVariant>>,
        catalog: &Catalog,
    ) -> Vec<Plan> {
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut plans = Vec::new();
        for (index, variant) in raw.into_iter().enumerate() {
            let before = self.c.len();
            let plan = self.variant_plan(index, variant, catalog, &mut names);
            if let (Some(plan), true) = (plan, self.c.len() == before) {
                plans.push(plan);
            }
        }
        plans
    }

    fn variant_plan(
        &mut self,
        index: usize,
        raw: Spanned<RawVariant>,
        catalog: &Catalog,
        names: &mut HashMap<String, usize>,
    ) -> Option<Plan> {
        let span = raw.span();
        let raw = raw.into_inner();
        let label = match &raw.name {
            Some(n) => format!("variant \"{}\"", n.get_ref()),
            None => format!("variant #{}", index + 1),
        };
        let name = match raw.name {
            None => {
                self.c.error(span.clone(), format!("{label} has no `name`"));
                None
            }
            Some(n) => self.variant_name(n, names),
        };

        // `set`: facts first, so that probabilities can be read from the changed environment.
        let mut entries = flatten_set(self.c.source(), index, raw.set.unwrap_or_default());
        entries.sort_by_key(|e| e.key_span.start);
        let mut environment = catalog.environment.clone();
        let mut facts = Vec::new();
        let mut targets = Vec::new();
        let mut seen = HashSet::new();
        for entry in entries {
            if !seen.insert(entry.key.clone()) {
                self.c.error(
                    entry.key_span.clone(),
                    format!("{label}: set key \"{}\" is given twice", entry.key),
                );
                continue;
            }
            match self.set_target(&label, &entry, catalog) {
                Some(Target::Fact(fact)) => {
                    if let Some(value) = self.fact_value(&label, &fact, &entry.value, catalog) {
                        environment.insert(fact.clone(), value);
                        facts.push((fact, value, entry.value.span()));
                    }
                }
                Some(target) => targets.push((target, entry)),
                None => {}
            }
        }
        let mut changes = Vec::new();
        for (target, entry) in targets {
            changes.extend(self.change(&label, target, &entry.value, &environment));
        }

        let enable = self.control_list(&label, "enable", raw.enable.as_deref(), catalog);
        let disable = self.control_list(&label, "disable", raw.disable.as_deref(), catalog);
        let mut reported = HashSet::new();
        for d in raw.disable.iter().flatten() {
            if enable.contains(d.get_ref()) && reported.insert(d.get_ref()) {
                self.c.error(
                    d.span(),
                    format!(
                        "{label}: control \"{}\" is in both `enable` and `disable`",
                        d.get_ref()
                    ),
                );
            }
        }
        Some(Plan {
            name: name?,
            label,
            span,
            enable,
            disable,
            facts,
            changes,
        })
    }

    /// Checks a variant's name; `names` maps the names seen so far to their offsets.
    fn variant_name(
        &mut self,
        n: Spanned<String>,
        names: &mut HashMap<String, usize>,
    ) -> Option<String> {
        let name = n.get_ref();
        if !valid_id(name) {
            self.c.error(
                n.span(),
                format!(
                    "variant name \"{name}\": a name may hold only letters, digits, '.', '_' and '-'"
                ),
            );
            return None;
        }
        if name == BASELINE {
            self.c.error(
                n.span(),
                format!(
                    "variant name \"{BASELINE}\" is reserved for the scenario as written; choose another name"
                ),
            );
            return None;
        }
        if let Some(&first) = names.get(name) {
            let line = self.c.line(first);
            self.c.error(
                n.span(),
                format!(
                    "duplicate variant name \"{name}\": already used by the variant on line {line}; variant names must be unique"
                ),
            );
            return None;
        }
        names.insert(name.clone(), n.span().start);
        Some(n.into_inner())
    }

    /// Checks `enable` or `disable`; returns the control ids that are fine.
    fn control_list(
        &mut self,
        label: &str,
        list: &str,
        ids: Option<&[Spanned<String>]>,
        catalog: &Catalog,
    ) -> Vec<String> {
        let mut chosen: Vec<String> = Vec::new();
        for r in ids.into_iter().flatten() {
            let id = r.get_ref();
            if catalog.actions.contains_key(id) {
                if chosen.contains(id) {
                    self.c
                        .error(r.span(), format!("{label}: `{list}` lists \"{id}\" twice"));
                } else {
                    chosen.push(id.clone());
                }
            } else if catalog.adversaries.contains(id) {
                self.c.error(
                    r.span(),
                    format!(
                        "{label}: \"{id}\" in `{list}` is an adversary; enable/disable take control ids (a variant cannot switch adversaries yet: set `enabled` on the adversary in a copy of the file){}",
                        known_list("controls", &catalog.control_names())
                    ),
                );
            } else if catalog.is_technique(id) {
                self.c.error(
                    r.span(),
                    format!(
                        "{label}: \"{id}\" in `{list}` is a technique; enable/disable take control ids{}",
                        known_list("controls", &catalog.control_names())
                    ),
                );
            } else if !catalog.rejected.contains(id) {
                let controls = catalog.control_names();
                self.c.error(
                    r.span(),
                    format!(
                        "{label}: unknown control \"{id}\" in `{list}`{}{}",
                        known_list("controls", &controls),
                        self.c.hint(id, controls.iter().copied())
                    ),
                );
            }
        }
        chosen
    }

    /// What a `set` key names, or `None` after reporting why it names nothing.
    fn set_target(&mut self, label: &str, entry: &SetEntry, catalog: &Catalog) -> Option<Target> {
        let key = &entry.key;
        let span = entry.key_span.clone();
        let Some((id, field)) = key.rsplit_once('.') else {
            self.c.error(
                span,
                format!("{label}: set key \"{key}\" has no field; keys are {SET_KEYS}"),
            );
            return None;
        };
        if catalog.is_technique(id) {
            return match field {
                "weight" => Some(Target::Technique(id.to_owned(), "weight")),
                "success" => Some(Target::Technique(id.to_owned(), "success")),
                _ => {
                    let fields = ["weight", "success"];
                    self.c.error(
                        span,
                        format!(
                            "{label}: set key \"{key}\": unknown field \"{field}\" for technique \"{id}\"; technique fields: {}{}",
                            fields.join(", "),
                            did_you_mean(field, fields)
                        ),
                    );
                    None
                }
            };
        }
        if let Some(action) = catalog.actions.get(id) {
            let has_response = action.is_none_or(CourseOfAction::has_response);
            return match field {
                "effectiveness" => Some(Target::Control(id.to_owned(), "effectiveness")),
                "cost" => Some(Target::Control(id.to_owned(), "cost")),
                "response" if has_response => Some(Target::Control(id.to_owned(), "response")),
                "response" => {
                    self.c.error(
                        span,
                        format!(
                            "{label}: set key \"{key}\": response applies only to detect and deceive controls; control \"{id}\" is \"{}\"",
                            action.map_or("", CourseOfAction::id)
                        ),
                    );
                    None
                }
                _ => {
                    let fields: &[&str] = if has_response {
                        &["effectiveness", "response", "cost"]
                    } else {
                        &["effectiveness", "cost"]
                    };
                    let hint = if field == "enabled" {
                        "; use `enable` or `disable` to switch a control on or off".to_owned()
                    } else {
                        did_you_mean(field, fields.iter().copied())
                    };
                    self.c.error(
                        span,
                        format!(
                            "{label}: set key \"{key}\": unknown field \"{field}\" for control \"{id}\"; control fields: {}{hint}",
                            fields.join(", "),
                        ),
                    );
                    None
                }
            };
        }
        if let Some(fact) = key.strip_prefix("environment.") {
            if catalog.environment.contains_key(fact) {
                return Some(Target::Fact(fact.to_owned()));
            }
            if !catalog.rejected_facts.contains(fact) {
                let facts: Vec<&str> = catalog.environment.keys().map(String::as_str).collect();
                self.c.error(
                    span,
                    format!(
                        "{label}: set key \"{key}\" names unknown environment fact \"{fact}\"{}{}",
                        known_list("facts", &facts),
                        self.c.hint(fact, facts.iter().copied())
                    ),
                );
            }
            return None;
        }
        if catalog.adversaries.contains(id) {
            self.c.error(
                span,
                format!(
                    "{label}: set key \"{key}\": adversary \"{id}\" cannot be changed by a variant yet (its rate sets the simulated years every arm shares); edit it in a copy of the file and run each copy"
                ),
            );
            return None;
        }
        if !catalog.rejected.contains(id) {
            let techniques = catalog.technique_names();
            let controls = catalog.control_names();
            let all = std::iter::once("environment")
                .chain(techniques.iter().copied())
                .chain(controls.iter().copied());
            self.c.error(
                span,
                format!(
                    "{label}: set key \"{key}\" names unknown id \"{id}\"; expected environment, a technique or a control{}{}{}",
                    known_list("techniques", &techniques),
                    known_list("controls", &controls),
                    self.c.hint(id, all)
                ),
            );
        }
        None
    }

    /// A new value for a fact, of the fact's type.
    fn fact_value(
        &mut self,
        label: &str,
        fact: &str,
        value: &Spanned<Value>,
        catalog: &Catalog,
    ) -> Option<Fact> {
        let v = value.get_ref();
        match catalog.environment.get(fact)? {
            Fact::Bool(_) => match v {
                Value::Boolean(b) => Some(Fact::Bool(*b)),
                _ => {
                    self.c.error(
                        value.span(),
                        format!(
                            "{label}: environment fact \"{fact}\" is a boolean; expected true or false, got {v}"
                        ),
                    );
                    None
                }
            },
            Fact::Number(_) => match as_number(v) {
                Some(x) if x.is_finite() => Some(Fact::Number(x)),
                _ => {
                    self.c.error(
                        value.span(),
                        format!(
                            "{label}: environment fact \"{fact}\" is a number; expected a finite number, got {v}"
                        ),
                    );
                    None
                }
            },
        }
    }

    /// A new parameter value, checked as in the base file; probabilities and weights may name
    /// facts of the variant's environment.
    fn change(
        &mut self,
        label: &str,
        target: Target,
        value: &Spanned<Value>,
        environment: &BTreeMap<String, Fact>,
    ) -> Option<Change> {
        let v = value.get_ref();
        match target {
            Target::Fact(_) => None,
            Target::Technique(id, "weight") => {
                let what = format!("{label}: technique \"{id}\": weight");
                let (w, fact) = self.weight(value, environment, &what)?;
                Some(Change::Weight(id, w, fact))
            }
            Target::Technique(id, _) => {
                let what = format!("{label}: technique \"{id}\": success");
                let (p, fact) = self.probability(value, environment, &what)?;
                Some(Change::Success(id, p, fact))
            }
            Target::Control(id, "cost") => match as_number(v) {
                Some(x) if valid_cost(x) => Some(Change::Cost(id, x)),
                _ => {
                    self.c.error(
                        value.span(),
                        format!(
                            "{label}: control \"{id}\": cost must be an amount in [0, {}] (annual cost), got {}",
                            readable(crate::money::MAX_COST),
                            shown_value(v)
                        ),
                    );
                    None
                }
            },
            Target::Control(id, field) => {
                let what = format!("{label}: control \"{id}\": {field}");
                let (p, fact) = self.probability(value, environment, &what)?;
                Some(if field == "response" {
                    Change::Response(id, p, fact)
                } else {
                    Change::Effectiveness(id, p, fact)
                })
            }
        }
    }

    /// Applies a checked plan to the valid base scenario and re-resolves what depends on facts.
    pub(super) fn apply_variant(&mut self, base: &Scenario, plan: Plan) -> Option<Variant> {
        let before = self.c.len();
        let label = &plan.label;
        let mut s = base.clone();
        s.variants = Vec::new();
        let technique = |s: &Scenario, id: &str| s.techniques.iter().position(|t| t.id == id);
        let control = |s: &Scenario, id: &str| s.controls.iter().position(|c| c.id == id);

        let mut fact_spans: HashMap<&str, Range<usize>> = HashMap::new();
        for (fact, value, span) in &plan.facts {
            s.environment.insert(fact.clone(), *value);
            fact_spans.insert(fact.as_str(), span.clone());
        }
        for id in &plan.enable {
            let i = control(&s, id)?;
            s.controls[i].enabled = true;
        }
        for id in &plan.disable {
            let i = control(&s, id)?;
            s.controls[i].enabled = false;
        }
        // Fields set by the variant were resolved in its environment when checked.
        let mut overridden: HashSet<(usize, &str)> = HashSet::new();
        for change in plan.changes {
            match change {
                Change::Weight(id, w, fact) => {
                    let i = technique(&s, &id)?;
                    s.techniques[i].weight = w;
                    s.techniques[i].weight_fact = fact;
                    overridden.insert((i, "weight"));
                }
                Change::Success(id, p, fact) => {
                    let i = technique(&s, &id)?;
                    s.techniques[i].success = p;
                    s.techniques[i].success_fact = fact;
                    overridden.insert((i, "success"));
                }
                Change::Effectiveness(id, p, fact) => {
                    let i = control(&s, &id)?;
                    s.controls[i].effectiveness = p;
                    s.controls[i].effectiveness_fact = fact;
                    overridden.insert((i, "effectiveness"));
                }
                Change::Response(id, p, fact) => {
                    let i = control(&s, &id)?;
                    s.controls[i].response = p;
                    s.controls[i].response_fact = fact;
                    overridden.insert((i, "response"));
                }
                Change::Cost(id, c) => {
                    let i = control(&s, &id)?;
                    s.controls[i].cost = Some(c);
                }
            }
        }

        // Re-read every probability and weight that names a fact, and every technique's
        // viability.
        let env = &s.environment;
        let mut errors = Vec::new();
        let mut resolve = |fact: &Option<String>,
                           owner: &str,
                           field: &str,
                           accepts: fn(f64) -> bool,
                           range: &str|
         -> Option<f64> {
            let fact = fact.as_deref()?;
            let Some(Fact::Number(x)) = env.get(fact) else {
                return None;
            };
            if !accepts(*x) {
                let span = fact_spans.get(fact).cloned().unwrap_or(plan.span.clone());
                errors.push((
                    span,
                    format!(
                        "{label}: environment fact \"{fact}\" = {} is outside {range}, but {owner} takes its {field} from it",
                        if field == "weight" { readable(*x) } else { x.to_string() }
                    ),
                ));
                return None;
            }
            Some(*x)
        };
        let in_unit = |x: f64| Probability::new(x).is_some();
        let weights = format!("(0, {MAX_WEIGHT:e}]");
        let mut techniques = s.techniques.clone();
        for (i, t) in techniques.iter_mut().enumerate() {
            let owner = format!("technique \"{}\"", t.id);
            if !overridden.contains(&(i, "weight")) {
                if let Some(w) = resolve(&t.weight_fact, &owner, "weight", valid_weight, &weights) {
                    t.weight = w;
                }
            }
            if !overridden.contains(&(i, "success")) {
                let p = resolve(&t.success_fact, &owner, "success", in_unit, "[0, 1]");
                if let Some(p) = p.and_then(Probability::new) {
                    t.success = p;
                }
            }
            t.viable = t
                .requires
                .iter()
                .all(|r| env.get(&r.fact) == Some(&Fact::Bool(r.holds)));
        }
        let mut controls = s.controls.clone();
        for (i, c) in controls.iter_mut().enumerate() {
            let owner = format!("control \"{}\"", c.id);
            for (field, fact, value) in [
                ("effectiveness", &c.effectiveness_fact, &mut c.effectiveness),
                ("response", &c.response_fact, &mut c.response),
            ] {
                if !overridden.contains(&(i, field)) {
                    let p = resolve(fact, &owner, field, in_unit, "[0, 1]");
                    if let Some(p) = p.and_then(Probability::new) {
                        *value = p;
                    }
                }
            }
        }
        for (span, message) in errors {
            self.c.error(span, message);
        }
        s.techniques = techniques;
        s.controls = controls;
        (self.c.len() == before).then_some(Variant {
            name: plan.name,
            scenario: s,
        })
    }
}

/// The entries of one variant's `set`, with nested tables (unquoted dotted keys such as
/// `edr.effectiveness = 0.8`) flattened to `"edr.effectiveness"`. Spans inside nested tables
/// come from a second, span-preserving parse of the file, which serde's `Value` cannot carry.
fn flatten_set(
    source: &str,
    index: usize,
    set: BTreeMap<Spanned<String>, Spanned<Value>>,
) -> Vec<SetEntry> {
    let mut document: Option<Option<Spanned<DeTable<'_>>>> = None;
    let mut out = Vec::new();
    for (key, value) in set {
        let key_span = key.span();
        let key = key.into_inner();
        match value.get_ref() {
            Value::Table(table) if !table.is_empty() => {
                let document = document.get_or_insert_with(|| DeTable::parse(source).ok());
                let node = document
                    .as_ref()
                    .and_then(|d| set_table(d.get_ref(), index, &key));
                let fallback = (key_span, value.span());
                nested(source, &key, table, node, &fallback, &mut out);
            }
            _ => out.push(SetEntry {
                key,
                key_span,
                value,
            }),
        }
    }
    out
}

/// The table under `key` in the `set` of variant `index`, from the span-preserving parse.
fn set_table<'d, 'i>(
    document: &'d DeTable<'i>,
    index: usize,
    key: &str,
) -> Option<&'d DeTable<'i>> {
    let variants = document.get("variants")?.get_ref().as_array()?;
    let variant = variants.get(index)?.get_ref().as_table()?;
    let set = variant.get("set")?.get_ref().as_table()?;
    set.get(key)?.get_ref().as_table()
}

fn nested(
    source: &str,
    prefix: &str,
    table: &toml::Table,
    node: Option<&DeTable<'_>>,
    fallback: &(Range<usize>, Range<usize>),
    out: &mut Vec<SetEntry>,
) {
    for (name, value) in table {
        let key = format!("{prefix}.{name}");
        let found = node.and_then(|n| n.get_key_value(name.as_str()));
        let spans = match found {
            Some((k, v)) => (
                dotted_key_start(source, k.span().start)..k.span().end,
                v.span(),
            ),
            None => fallback.clone(),
        };
        match value {
            Value::Table(t) if !t.is_empty() => {
                let inner = found.and_then(|(_, v)| match v.get_ref() {
                    DeValue::Table(t) => Some(t),
                    _ => None,
                });
                nested(source, &key, t, inner, &spans, out);
            }
            _ => out.push(SetEntry {
                key,
                key_span: spans.0,
                value: Spanned::new(spans.1, value.clone()),
            }),
        }
    }
}

/// Where the dotted key whose last part starts at `last` begins (`edr.effectiveness = 1` → at
/// `edr`), so that a message about the key points at the key as written.
fn dotted_key_start(source: &str, last: usize) -> usize {
    let b = source.as_bytes();
    let blank_before = |mut i: usize| {
        while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        i
    };
    let mut start = last.min(b.len());
    loop {
        let i = blank_before(start);
        if i == 0 || b[i - 1] != b'.' {
            return start;
        }
        let i = blank_before(i - 1);
        if i == 0 {
            return start;
        }
        let previous = match b[i - 1] {
            q @ (b'"' | b'\'') => source[..i - 1].rfind(q as char),
            _ => {
                let mut j = i;
                while j > 0 && (b[j - 1].is_ascii_alphanumeric() || matches!(b[j - 1], b'_' | b'-'))
                {
                    j -= 1;
                }
                (j < i).then_some(j)
            }
        };
        match previous {
            Some(j) => start = j,
            None => return start,
        }
    }
}

/// The differences between two scenarios' technique and control ids, if any: what is only in
/// the first and what only in the second (two files compared trial by trial need the same ids).
pub fn id_difference(a: &Scenario, b: &Scenario) -> Option<String> {
    let ids = |s: &Scenario| -> std::collections::BTreeSet<String> {
        let t = s.techniques.iter().map(|t| format!("technique {}", t.id));
        t.chain(s.controls.iter().map(|c| format!("control {}", c.id)))
            .collect()
    };
    let (ia, ib) = (ids(a), ids(b));
    let only_a: Vec<&String> = ia.difference(&ib).collect();
    let only_b: Vec<&String> = ib.difference(&ia).collect();
    if only_a.is_empty() && only_b.is_empty() {
        return None;
    }
    let list = |v: &[&String]| {
        if v.is_empty() {
            "nothing".to_owned()
        } else {
            v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        }
    };
    Some(format!(
        "only in the first: {}; only in the second: {}",
        list(&only_a),
        list(&only_b)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = include_str!("../../tests/data/valid/tiny.toml");

    /// `tiny.toml` with `extra` appended, parsed.
    fn parse(extra: &str) -> Result<Scenario, Vec<String>> {
        let source = format!("{TINY}\n{extra}");
        Scenario::from_toml(&source, "t.toml").map_err(|d| {
            d.0.into_iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect()
        })
    }

    fn ok(extra: &str) -> Scenario {
        parse(extra).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn errors(extra: &str) -> Vec<String> {
        match parse(extra) {
            Ok(_) => panic!("expected problems in {extra}"),
            Err(e) => e,
        }
    }

    /// The line `extra`'s first line lands on, in `tiny.toml` + "\n" + `extra`.
    fn first_line() -> usize {
        TINY.lines().count() + 2
    }

    fn variant<'s>(s: &'s Scenario, name: &str) -> &'s Scenario {
        &s.variants.iter().find(|v| v.name == name).unwrap().scenario
    }

    fn technique<'s>(s: &'s Scenario, id: &str) -> &'s crate::scenario::Technique {
        s.techniques.iter().find(|t| t.id == id).unwrap()
    }

    fn control<'s>(s: &'s Scenario, id: &str) -> &'s crate::scenario::Control {
        s.controls.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn the_valid_variants_fixture_builds_its_three_variants() {
        let source = include_str!("../../tests/data/valid/variants.toml");
        let s = Scenario::from_toml(source, "variants.toml").unwrap();
        let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["add-sandbox", "mfa", "better-filter"]);
        assert!(!control(&s, "sandbox").enabled);
        assert!(control(variant(&s, "add-sandbox"), "sandbox").enabled);
        assert!(technique(&s, "vpn-login").viable);
        assert!(!technique(variant(&s, "mfa"), "vpn-login").viable);
        let better = variant(&s, "better-filter");
        assert_eq!(control(better, "mail-filter").effectiveness.get(), 0.8);
        assert_eq!(control(better, "edr").response.get(), 0.9);
    }

    #[test]
    fn weights_read_from_facts_follow_each_variants_environment() {
        let source = include_str!("../../tests/data/valid/weight-fact.toml");
        let s = Scenario::from_toml(source, "weight-fact.toml").unwrap();
        let weight = |s: &Scenario, id: &str| {
            let t = technique(s, id);
            (t.weight, t.weight_fact.clone())
        };
        let fact = |name: &str| Some(name.to_owned());
        assert_eq!(weight(&s, "phish"), (120.0, fact("mailboxes")));
        assert_eq!(weight(&s, "vpn-login"), (4.0, fact("vpn_gateways")));
        assert_eq!(weight(&s, "scan"), (1.0, None));
        let more = variant(&s, "more-vpn-gateways");
        assert_eq!(weight(more, "vpn-login"), (40.0, fact("vpn_gateways")));
        assert_eq!(weight(more, "phish"), (120.0, fact("mailboxes")));
        // A literal replaces the fact reference.
        let fixed = variant(&s, "fixed-phishing-weight");
        assert_eq!(weight(fixed, "phish"), (10.0, None));
        // A weight set to a fact reads the variant's environment, as do the others.
        let by_mailboxes = variant(&s, "vpn-weighted-by-mailboxes");
        assert_eq!(weight(by_mailboxes, "vpn-login"), (60.0, fact("mailboxes")));
        assert_eq!(weight(by_mailboxes, "phish"), (60.0, fact("mailboxes")));
    }

    #[test]
    fn a_fact_change_that_breaks_a_weight_is_reported_at_the_new_value() {
        let source = TINY.replace("weight = 3\n", "weight = \"click_rate\"\n")
            + "\n[[variants]]\nname = \"v\"\nset = { \"environment.click_rate\" = 0 }\n\
             [[variants]]\nname = \"w\"\nset = { \"scan.weight\" = \"mfa\", \"build.weight\" = \"nope\" }\n";
        let l = first_line();
        let e = Scenario::from_toml(&source, "t.toml").unwrap_err();
        let e: Vec<String> =
            e.0.iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect();
        assert_eq!(
            e,
            [
                format!(
                    "{}:36: variant \"v\": environment fact \"click_rate\" = 0 is outside \
                     (0, 1e12], but technique \"phish\" takes its weight from it",
                    l + 2
                ),
                format!(
                    "{}:25: variant \"w\": technique \"scan\": weight names environment fact \
                     \"mfa\" = false, a boolean; a weight needs a numeric fact",
                    l + 5
                ),
                format!(
                    "{}:49: variant \"w\": technique \"build\": weight names unknown environment \
                     fact \"nope\"; numeric facts: click_rate",
                    l + 5
                ),
            ]
        );
    }

    #[test]
    fn a_file_without_variants_has_none() {
        assert!(ok("").variants.is_empty());
    }

    #[test]
    fn variants_keep_file_order_and_the_base_name() {
        let s = ok("[[variants]]\nname = \"b\"\n[[variants]]\nname = \"a\"\n");
        let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        for v in &s.variants {
            assert_eq!(v.scenario.name, "Tiny");
            assert!(v.scenario.variants.is_empty());
        }
    }

    #[test]
    fn a_fact_change_flips_viability_and_re_resolves_success() {
        let s = ok("[[variants]]\nname = \"v\"\n\
                    set = { \"environment.mfa\" = true, \"environment.click_rate\" = 0.05 }\n");
        assert!(technique(&s, "vpn-login").viable);
        assert_eq!(technique(&s, "phish").success.get(), 0.3);
        let v = variant(&s, "v");
        assert_eq!(v.environment["mfa"], Fact::Bool(true));
        assert!(!technique(v, "vpn-login").viable);
        let phish = technique(v, "phish");
        assert_eq!(phish.success.get(), 0.05);
        assert_eq!(phish.success_fact.as_deref(), Some("click_rate"));
    }

    #[test]
    fn a_fact_change_re_resolves_control_effectiveness_and_response() {
        let source = TINY.replace(
            "click_rate = 0.3\n",
            "click_rate = 0.3\nedr_rate = 0.4\nedr_response = 0.5\n",
        ) + "\n[[controls]]\nid = \"soc\"\naction = \"detect\"\nphases = [\"delivery\"]\n\
             effectiveness = \"edr_rate\"\nresponse = \"edr_response\"\n\
             \n[[variants]]\nname = \"v\"\n\
             set = { \"environment.edr_rate\" = 0.9, \"environment.edr_response\" = 0.2 }\n";
        let s = Scenario::from_toml(&source, "t.toml").unwrap();
        let base = control(&s, "soc");
        assert_eq!(base.effectiveness.get(), 0.4);
        assert_eq!(base.response.get(), 0.5);
        assert_eq!(base.response_fact.as_deref(), Some("edr_response"));
        let soc = control(variant(&s, "v"), "soc");
        assert_eq!(soc.effectiveness.get(), 0.9);
        assert_eq!(soc.effectiveness_fact.as_deref(), Some("edr_rate"));
        assert_eq!(soc.response.get(), 0.2);
        assert_eq!(soc.response_fact.as_deref(), Some("edr_response"));
    }

    #[test]
    fn control_and_technique_overrides_apply() {
        let s = ok(
            "[[variants]]\nname = \"v\"\nset = { \"edr.effectiveness\" = 0.9, \
                    \"edr.response\" = 1, \"edr.cost\" = 5000, \"scan.weight\" = 2.5, \
                    \"scan.success\" = \"click_rate\", \"phish.success\" = 0.2 }\n",
        );
        let v = variant(&s, "v");
        let edr = control(v, "edr");
        assert_eq!(edr.effectiveness.get(), 0.9);
        assert_eq!(edr.response.get(), 1.0);
        assert_eq!(edr.cost, Some(5000.0));
        let scan = technique(v, "scan");
        assert_eq!(scan.weight, 2.5);
        assert_eq!(scan.success.get(), 0.3);
        assert_eq!(scan.success_fact.as_deref(), Some("click_rate"));
        // A literal replaces the fact reference.
        let phish = technique(v, "phish");
        assert_eq!(phish.success.get(), 0.2);
        assert_eq!(phish.success_fact, None);
        // The base is untouched.
        assert_eq!(control(&s, "edr").effectiveness.get(), 0.4);
        assert_eq!(
            technique(&s, "phish").success_fact.as_deref(),
            Some("click_rate")
        );
    }

    #[test]
    fn a_success_set_to_a_fact_reads_the_variants_environment() {
        let s = ok("[[variants]]\nname = \"v\"\n\
                    set = { \"exploit.success\" = \"click_rate\", \"environment.click_rate\" = 0.9 }\n");
        let exploit = technique(variant(&s, "v"), "exploit");
        assert_eq!(exploit.success.get(), 0.9);
        assert_eq!(exploit.success_fact.as_deref(), Some("click_rate"));
    }

    #[test]
    fn enable_and_disable_switch_controls() {
        let source = TINY.replace(
            "effectiveness = 0.5\n",
            "effectiveness = 0.5\nenabled = false\n",
        ) + "\n[[variants]]\nname = \"v\"\nenable = [\"mail-filter\"]\ndisable = [\"edr\"]\n\
             \n[[variants]]\nname = \"no-op\"\nenable = [\"edr\"]\ndisable = [\"mail-filter\"]\n";
        let s = Scenario::from_toml(&source, "t.toml").unwrap();
        assert!(!control(&s, "mail-filter").enabled);
        assert!(control(&s, "edr").enabled);
        let v = variant(&s, "v");
        assert!(control(v, "mail-filter").enabled);
        assert!(!control(v, "edr").enabled);
        // Enabling an enabled control and disabling a disabled one change nothing.
        let no_op = variant(&s, "no-op");
        let mut base = s.clone();
        base.variants.clear();
        assert_eq!(*no_op, base);
    }

    #[test]
    fn a_variant_that_changes_nothing_equals_the_base() {
        let s = ok(
            "[[variants]]\nname = \"same\"\nset = { \"edr.effectiveness\" = 0.4, \
                    \"environment.mfa\" = false, \"phish.success\" = \"click_rate\", \
                    \"phish.weight\" = 3 }\nenable = [\"edr\"]\n\
                    [[variants]]\nname = \"empty\"\n",
        );
        let mut base = s.clone();
        base.variants.clear();
        assert_eq!(s.variants.len(), 2);
        for v in &s.variants {
            assert_eq!(v.scenario, base, "{}", v.name);
        }
    }

    #[test]
    fn unquoted_dotted_keys_and_set_tables_work_and_point_at_the_key() {
        let s = ok(
            "[[variants]]\nname = \"a\"\nset = { edr.effectiveness = 0.9, environment.mfa = true }\n\
                    [[variants]]\nname = \"b\"\n[variants.set]\nedr.cost = 10\n\"scan.weight\" = 2\n\
                    [variants.set.mail-filter]\neffectiveness = 0.1\n",
        );
        assert_eq!(control(variant(&s, "a"), "edr").effectiveness.get(), 0.9);
        assert!(!technique(variant(&s, "a"), "vpn-login").viable);
        assert_eq!(control(variant(&s, "b"), "edr").cost, Some(10.0));
        assert_eq!(technique(variant(&s, "b"), "scan").weight, 2.0);
        assert_eq!(
            control(variant(&s, "b"), "mail-filter").effectiveness.get(),
            0.1
        );

        let l = first_line();
        assert_eq!(
            errors(
                "[[variants]]\nname = \"a\"\nset = { edr.cost = 1, edr . effectivenes = 1.5 }\n\
                    [[variants]]\nname = \"b\"\n[variants.set]\nedr.cost = -1\n"
            ),
            [
                format!(
                    "{}:23: variant \"a\": set key \"edr.effectivenes\": unknown field \"effectivenes\" \
                     for control \"edr\"; control fields: effectiveness, response, cost; \
                     did you mean \"effectiveness\"?",
                    l + 2
                ),
                format!(
                    "{}:12: variant \"b\": control \"edr\": cost must be an amount in [0, 1e12] \
                     (annual cost), got -1",
                    l + 6
                ),
            ]
        );
        let source = format!("variants = [{{ name = \"a\", set = {{ edr.speed = 1 }} }}]\n{TINY}");
        assert_eq!(
            Scenario::from_toml(&source, "t.toml")
                .unwrap_err()
                .to_string(),
            "t.toml:1:35: variant \"a\": set key \"edr.speed\": unknown field \"speed\" for control \
             \"edr\"; control fields: effectiveness, response, cost"
        );
    }

    #[test]
    fn names_are_required_unique_not_baseline_and_id_shaped() {
        let l = first_line();
        assert_eq!(
            errors(
                "[[variants]]\nset = {}\n[[variants]]\nname = \"baseline\"\n\
                    [[variants]]\nname = \"two words\"\n[[variants]]\nname = \"x\"\n\
                    [[variants]]\nname = \"x\"\n"
            ),
            [
                format!("{l}:1: variant #1 has no `name`"),
                format!(
                    "{}:8: variant name \"baseline\" is reserved for the scenario as written; \
                     choose another name",
                    l + 3
                ),
                format!(
                    "{}:8: variant name \"two words\": a name may hold only letters, digits, '.', \
                     '_' and '-'",
                    l + 5
                ),
                format!(
                    "{}:8: duplicate variant name \"x\": already used by the variant on line {}; \
                     variant names must be unique",
                    l + 9,
                    l + 7
                ),
            ]
        );
    }

    #[test]
    fn enable_and_disable_take_each_control_once_and_not_both() {
        let l = first_line();
        assert_eq!(
            errors(
                "[[variants]]\nname = \"v\"\nenable = [\"edr\", \"edr\", \"beacon\", \"zzz\"]\n\
                    disable = [\"edr\", \"mail-filter\"]\n"
            ),
            [
                format!("{}:18: variant \"v\": `enable` lists \"edr\" twice", l + 2),
                format!(
                    "{}:25: variant \"v\": \"beacon\" in `enable` is a technique; enable/disable \
                     take control ids; controls: mail-filter, edr",
                    l + 2
                ),
                format!(
                    "{}:35: variant \"v\": unknown control \"zzz\" in `enable`; controls: \
                     mail-filter, edr",
                    l + 2
                ),
                format!(
                    "{}:12: variant \"v\": control \"edr\" is in both `enable` and `disable`",
                    l + 3
                ),
            ]
        );
    }

    #[test]
    fn set_keys_are_checked() {
        let l = first_line();
        let e = errors(
            "[[variants]]\nname = \"v\"\n[variants.set]\n\
             beacon = 1\n\
             enviroment.mfa = true\n\
             environment.mfa_on_vpn = true\n\
             environment.click_rate = true\n\
             scan.requires = []\n\
             mail-filter.response = 0.5\n\
             edr.enabled = true\n\
             scan.weight = 0\n\
             \"exploit.success\" = \"mfa\"\n\
             \"exploit.weight\" = 2\n\
             exploit.weight = 3\n",
        );
        assert_eq!(
            e,
            [
                format!(
                    "{}:1: variant \"v\": set key \"beacon\" has no field; keys are {SET_KEYS}",
                    l + 3
                ),
                format!(
                    "{}:1: variant \"v\": set key \"enviroment.mfa\" names unknown id \"enviroment\"; \
                     expected environment, a technique or a control; techniques: scan, build, \
                     phish, vpn-login, exploit, persist, beacon, exfil; controls: mail-filter, edr; \
                     did you mean \"environment\"?",
                    l + 4
                ),
                format!(
                    "{}:1: variant \"v\": set key \"environment.mfa_on_vpn\" names unknown \
                     environment fact \"mfa_on_vpn\"; facts: click_rate, mfa",
                    l + 5
                ),
                format!(
                    "{}:26: variant \"v\": environment fact \"click_rate\" is a number; expected a \
                     finite number, got true",
                    l + 6
                ),
                format!(
                    "{}:1: variant \"v\": set key \"scan.requires\": unknown field \"requires\" for \
                     technique \"scan\"; technique fields: weight, success",
                    l + 7
                ),
                format!(
                    "{}:1: variant \"v\": set key \"mail-filter.response\": response applies only to \
                     detect and deceive controls; control \"mail-filter\" is \"deny\"",
                    l + 8
                ),
                format!(
                    "{}:1: variant \"v\": set key \"edr.enabled\": unknown field \"enabled\" for \
                     control \"edr\"; control fields: effectiveness, response, cost; use `enable` \
                     or `disable` to switch a control on or off",
                    l + 9
                ),
                format!(
                    "{}:15: variant \"v\": technique \"scan\": weight 0 must be a number > 0 and at most 1e12",
                    l + 10
                ),
                format!(
                    "{}:21: variant \"v\": technique \"exploit\": success names environment fact \
                     \"mfa\" = false, a boolean; a probability needs a numeric fact",
                    l + 11
                ),
                format!(
                    "{}:1: variant \"v\": set key \"exploit.weight\" is given twice",
                    l + 13
                ),
            ]
        );
    }

    #[test]
    fn a_fact_out_of_range_is_reported_once_per_reference_it_breaks() {
        let l = first_line();
        let source = TINY.replace("effectiveness = 0.4\n", "effectiveness = \"click_rate\"\n")
            + "\n[[variants]]\nname = \"v\"\nset = { \"environment.click_rate\" = -0.5 }\n\
             [[variants]]\nname = \"w\"\n\
             set = { \"environment.click_rate\" = 2, \"phish.success\" = 0.5, \"edr.effectiveness\" = \"click_rate\" }\n";
        let e = Scenario::from_toml(&source, "t.toml").unwrap_err();
        let e: Vec<String> =
            e.0.iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect();
        assert_eq!(
            e,
            [
                format!(
                    "{}:36: variant \"v\": environment fact \"click_rate\" = -0.5 is outside [0, 1], \
                     but technique \"phish\" takes its success from it",
                    l + 2
                ),
                format!(
                    "{}:36: variant \"v\": environment fact \"click_rate\" = -0.5 is outside [0, 1], \
                     but control \"edr\" takes its effectiveness from it",
                    l + 2
                ),
                format!(
                    "{}:84: variant \"w\": control \"edr\": effectiveness names environment fact \
                     \"click_rate\" = 2, which is outside [0, 1]",
                    l + 5
                ),
            ]
        );
    }

    #[test]
    fn variants_are_checked_even_when_the_base_has_problems() {
        let source = TINY.replace("weight = 3\n", "weight = 0\n").replace(
            "id = \"edr\"\naction = \"detect\"",
            "id = \"edr\"\naction = \"detec\"",
        ) + "\n[[variants]]\nname = \"v\"\nenable = [\"edr\", \"edx\"]\n\
             set = { \"phish.weight\" = 2, \"edr.response\" = 0.5, \"edr.effectiveness\" = 7 }\n";
        let e = Scenario::from_toml(&source, "t.toml").unwrap_err();
        let messages: Vec<&str> = e.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("weight 0 must be"));
        assert!(messages[1].contains("unknown course of action \"detec\""));
        assert!(messages[2].contains("unknown control \"edx\""));
        assert!(messages[3].contains("effectiveness 7 is outside [0, 1]"));
    }

    #[test]
    fn ids_the_base_rejected_are_not_reported_again() {
        let source = TINY
            .replace("id = \"scan\"", "id = \"sc an\"")
            .replace("mfa = false\n", "mfa = false\nbad = \"text\"\n")
            + "\n[[variants]]\nname = \"v\"\n\
             set = { \"sc an.weight\" = 2, \"environment.bad\" = 1 }\n";
        let e = Scenario::from_toml(&source, "t.toml").unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
    }

    #[test]
    fn dotted_key_start_walks_back_over_bare_and_quoted_parts() {
        let s = "x = { a.\"b.c\" . d = 1 }";
        assert_eq!(dotted_key_start(s, s.find("d =").unwrap()), 6);
        assert_eq!(dotted_key_start(s, s.find('a').unwrap()), 6);
        let s = "\n.d = 1";
        assert_eq!(dotted_key_start(s, 2), 2);
        assert_eq!(dotted_key_start("", 0), 0);
    }
}

//! The scenario format is stated three times: the serde mirror, the JSON Schema that
//! `killchain schema` prints, and the validator. These tests make single-field mistakes in valid
//! scenarios mechanically and check that the schema and `validate` accept and reject the same
//! files; and they pin what `validate` says about a weight that names an environment fact.
//!
//! Left out of the agreement, because a JSON Schema cannot see them (it checks one value at a
//! time, never what another part of the file defines), and only `validate` reports them:
//! - references between ids: a control's `techniques` naming an unknown technique or one outside
//!   the control's phases, a variant naming an unknown id, an id changed so that a reference
//!   breaks, duplicate ids;
//! - references to facts: an unknown fact, a boolean fact where a number is needed (or the
//!   reverse in `requires`), a numeric fact outside the field's range;
//! - orderings within one value: an impact's `low` > `high`, a PERT's `min` > `mode`;
//! - a phase changed to another valid phase (it may leave a phase without a technique) and an
//!   action changed to another valid one (a variant may set its `response`);
//! - a phase listed under both its name and its alias (`recon` and `reconnaissance`);
//! - a whole number written as a float (`trials = 2.0`): JSON, which the schema sees, has no
//!   distinction between 2 and 2.0.

use std::collections::BTreeSet;
use std::fs;

use killchain::scenario::Scenario;
use toml::{Table, Value};

use crate::support::{invalid, killchain};

/// The schema as `killchain schema` prints it.
fn schema() -> serde_json::Value {
    let out = killchain().arg("schema").output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every valid scenario: the shipped ones and tests/data/valid, with their paths, in order.
fn valid_scenarios() -> Vec<(String, String)> {
    let mut paths: Vec<String> = ["scenarios", "tests/data/valid", "tests/data/landscape"]
        .iter()
        .flat_map(|dir| fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 7, "{paths:?}");
    paths
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// The name of the numeric fact a mutation adds to `[environment]` and names: 0.5 lies in the
/// range of every field that may name a fact.
const PROBE_FACT: &str = "agreement_probe";

/// What a field holds, which decides the mistakes made in it.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A probability or a numeric fact's name (`success`, `effectiveness`, `response`).
    Probability,
    /// A weight > 0 and at most 1e12, or a numeric fact's name.
    Weight,
    /// `max_attempts`: an integer in [1, 64].
    Attempts,
    /// `trials`: an integer >= 1.
    Trials,
    /// `seed`: an integer from 0 to 2^63 − 1.
    Seed,
    /// `cost`: an amount in [0, 1e12].
    Cost,
    /// `attacks_per_year`: a number in [0.01, 1e6].
    AttacksPerYear,
    /// `impact`: an amount, `{ low, high }` or `{ min, mode, max }`.
    Impact,
    /// Free text (`name`, `description`).
    Text,
    /// An id.
    Id,
    /// A phase id.
    Phase,
    /// A course of action.
    Action,
    /// An ATT&CK technique id.
    Attack,
    /// A currency label.
    Currency,
    /// A boolean (`enabled`).
    Boolean,
    /// A list of phase ids.
    Phases,
    /// A list of technique ids.
    Techniques,
    /// A list of requirements on boolean facts.
    Requires,
}

/// The fields of one kind of table, each with what it holds.
type Fields = &'static [(&'static str, Shape)];

/// The fields of each table this test makes mistakes in.
const TECHNIQUE: Fields = &[
    ("id", Shape::Id),
    ("phase", Shape::Phase),
    ("name", Shape::Text),
    ("attack", Shape::Attack),
    ("weight", Shape::Weight),
    ("success", Shape::Probability),
    ("requires", Shape::Requires),
];
const CONTROL: Fields = &[
    ("id", Shape::Id),
    ("name", Shape::Text),
    ("action", Shape::Action),
    ("phases", Shape::Phases),
    ("techniques", Shape::Techniques),
    ("effectiveness", Shape::Probability),
    ("response", Shape::Probability),
    ("enabled", Shape::Boolean),
    ("cost", Shape::Cost),
];
const ADVERSARY: Fields = &[("name", Shape::Text), ("max_attempts", Shape::Attempts)];
const LANDSCAPE_ADVERSARY: Fields = &[
    ("id", Shape::Id),
    ("name", Shape::Text),
    ("max_attempts", Shape::Attempts),
    ("attacks_per_year", Shape::AttacksPerYear),
    ("impact", Shape::Impact),
];
const META: Fields = &[
    ("name", Shape::Text),
    ("description", Shape::Text),
    ("trials", Shape::Trials),
    ("seed", Shape::Seed),
];
const LOSS: Fields = &[
    ("attacks_per_year", Shape::AttacksPerYear),
    ("impact", Shape::Impact),
    ("currency", Shape::Currency),
];

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn list(items: &[Value]) -> Value {
    Value::Array(items.to_vec())
}

fn table(entries: &[(&str, Value)]) -> Value {
    Value::Table(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// The values written in place of a field of `shape`, each with what it tries: wrong types,
/// values out of range, values at the edge of the range, and a numeric fact's name. `current`
/// is the field's value in the file, if it has one.
fn mistakes(shape: Shape, current: Option<&Value>) -> Vec<(&'static str, Value)> {
    let fact = ("a numeric fact's name", s(PROBE_FACT));
    let not_a_name = ("a string that is no fact's name", s("not a fact"));
    let number = ("a number", Value::Integer(1));
    let boolean = ("a boolean", Value::Boolean(true));
    let infinite = ("an infinite number", Value::Float(f64::INFINITY));
    let f = Value::Float;
    let i = Value::Integer;
    match shape {
        Shape::Probability => vec![
            boolean,
            not_a_name,
            infinite,
            ("above 1", f(1.5)),
            ("below 0", f(-0.1)),
            ("0", i(0)),
            ("1", i(1)),
            fact,
        ],
        Shape::Weight => vec![
            boolean,
            not_a_name,
            infinite,
            ("0", i(0)),
            ("negative", f(-1.0)),
            ("above 1e12", f(2e12)),
            ("1e12", f(1e12)),
            ("tiny", f(1e-9)),
            fact,
        ],
        Shape::Attempts => vec![
            ("a string", s("2")),
            ("a fraction", f(2.5)),
            ("0", i(0)),
            ("65", i(65)),
            ("1", i(1)),
            ("64", i(64)),
            fact,
        ],
        Shape::Trials => vec![
            ("a string", s("1000")),
            ("a fraction", f(2.5)),
            ("0", i(0)),
            ("negative", i(-1)),
            ("1", i(1)),
            fact,
        ],
        Shape::Seed => vec![
            ("a string", s("7")),
            ("a fraction", f(1.5)),
            ("negative", i(-1)),
            ("0", i(0)),
            ("the largest TOML integer", i(i64::MAX)),
            fact,
        ],
        Shape::Cost => vec![
            ("a string", s("1000")),
            boolean,
            infinite,
            ("negative", i(-1)),
            ("0", i(0)),
            ("a fraction", f(0.5)),
            ("1e12", f(1e12)),
            ("above 1e12", f(2e12)),
            ("near the largest float", f(1e308)),
            fact,
        ],
        Shape::AttacksPerYear => vec![
            ("a string", s("2")),
            boolean,
            ("below 0.01", f(0.001)),
            ("above 1e6", f(2e6)),
            ("0.01", f(0.01)),
            ("1e6", f(1e6)),
            fact,
        ],
        Shape::Impact => vec![
            ("a string", s("1000")),
            boolean,
            ("negative", i(-1)),
            ("above 1e12", f(2e12)),
            ("0", i(0)),
            fact,
            ("a lognormal", table(&[("low", i(10)), ("high", i(1000))])),
            (
                "a PERT",
                table(&[("min", i(0)), ("mode", i(5)), ("max", i(10))]),
            ),
            (
                "a lognormal with an unknown key",
                table(&[("low", i(10)), ("high", i(1000)), ("colour", i(1))]),
            ),
            (
                "a lognormal with low 0",
                table(&[("low", i(0)), ("high", i(1000))]),
            ),
            (
                "a lognormal with a string",
                table(&[("low", s("10")), ("high", i(1000))]),
            ),
            ("a lognormal without high", table(&[("low", i(10))])),
            (
                "a PERT without max",
                table(&[("min", i(0)), ("mode", i(5))]),
            ),
            (
                "a PERT above 1e12",
                table(&[("min", i(0)), ("mode", i(5)), ("max", f(2e12))]),
            ),
            (
                "lognormal and PERT keys",
                table(&[
                    ("low", i(10)),
                    ("high", i(1000)),
                    ("min", i(0)),
                    ("mode", i(5)),
                    ("max", i(10)),
                ]),
            ),
            ("an empty table", table(&[])),
        ],
        Shape::Text => vec![number, boolean, ("empty", s("")), fact],
        Shape::Id => vec![
            number,
            ("two words", s("two words")),
            ("empty", s("")),
            ("a formula", s("=cmd")),
        ],
        Shape::Phase => vec![number, ("misspelt", s("deliver")), fact],
        Shape::Action => vec![number, ("unknown", s("block")), fact],
        Shape::Attack => vec![
            number,
            ("short sub-technique", s("T1566.1")),
            ("lowercase", s("t1566")),
            ("plain", s("T1566")),
            fact,
        ],
        Shape::Currency => vec![
            number,
            ("with a space", s("US Dollars")),
            ("17 characters", s("ABCDEFGHIJKLMNOPQ")),
            ("empty", s("")),
            ("EUR", s("EUR")),
            fact,
        ],
        Shape::Boolean => vec![number, ("a string", s("true")), fact],
        Shape::Phases => {
            let mut v = vec![
                ("a string", s("delivery")),
                ("empty", list(&[])),
                ("a number in it", list(&[Value::Integer(1)])),
                ("a misspelt phase", list(&[s("deliver")])),
                ("a fact's name in it", list(&[s(PROBE_FACT)])),
            ];
            if let Some(Value::Array(phases)) = current {
                if let Some(first) = phases.first() {
                    let mut twice = phases.clone();
                    twice.push(first.clone());
                    v.push(("a phase twice", Value::Array(twice)));
                }
            }
            v
        }
        Shape::Techniques => {
            let mut v = vec![
                ("a string", s("phish")),
                ("a number in it", list(&[Value::Integer(1)])),
                ("an id of the wrong shape", list(&[s("two words")])),
                ("empty", list(&[])),
            ];
            if let Some(Value::Array(ids)) = current {
                if let Some(first) = ids.first() {
                    let mut twice = ids.clone();
                    twice.push(first.clone());
                    v.push(("a technique twice", Value::Array(twice)));
                }
            }
            v
        }
        Shape::Requires => vec![
            ("a string", s("mfa")),
            ("a number in it", list(&[Value::Integer(1)])),
            ("a name of the wrong shape", list(&[s("not a fact")])),
            ("two negations", list(&[s("!!mfa")])),
        ],
    }
}

/// One changed file: where, what, and the whole document.
struct Mutant {
    what: String,
    document: Value,
}

/// The table at `path` in `document` (`["adversary", "techniques", "3"]`).
fn table_at<'d>(document: &'d mut Value, path: &[String]) -> &'d mut Table {
    let mut node = document;
    for key in path {
        node = match node {
            Value::Table(t) => t.get_mut(key.as_str()).unwrap(),
            Value::Array(a) => &mut a[key.parse::<usize>().unwrap()],
            _ => unreachable!("{path:?}"),
        };
    }
    node.as_table_mut().unwrap()
}

/// Single-field mistakes in every table of `document` whose kind and keys (and, for a control,
/// action) were not seen before: the same shape of table elsewhere would repeat the same checks.
fn mutants(file: &str, document: &Value, seen: &mut BTreeSet<String>) -> Vec<Mutant> {
    let root = document.as_table().unwrap();
    let mut tables: Vec<(Vec<String>, Fields)> = Vec::new();
    let at = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    for (key, fields) in [("scenario", META), ("adversary", ADVERSARY), ("loss", LOSS)] {
        if root.contains_key(key) {
            tables.push((at(&[key]), fields));
        }
    }
    let count = |parts: &[&str]| {
        let mut node = Some(document);
        for p in parts {
            node = node.and_then(|n| match p.parse::<usize>() {
                Ok(i) => n.get(i),
                Err(_) => n.get(*p),
            });
        }
        node.and_then(Value::as_array).map_or(0, Vec::len)
    };
    for i in 0..count(&["adversary", "techniques"]) {
        let index = i.to_string();
        tables.push((at(&["adversary", "techniques", &index]), TECHNIQUE));
    }
    for i in 0..count(&["adversaries"]) {
        let index = i.to_string();
        tables.push((at(&["adversaries", &index]), LANDSCAPE_ADVERSARY));
        for j in 0..count(&["adversaries", &index, "techniques"]) {
            let at_j = at(&["adversaries", &index, "techniques", &j.to_string()]);
            tables.push((at_j, TECHNIQUE));
        }
    }
    for i in 0..count(&["controls"]) {
        tables.push((at(&["controls", &i.to_string()]), CONTROL));
    }

    let mut out = Vec::new();
    for (path, fields) in tables {
        let mut probe = document.clone();
        let t = table_at(&mut probe, &path).clone();
        let action = t.get("action").map(Value::to_string).unwrap_or_default();
        let keys: Vec<&str> = t.keys().map(String::as_str).collect();
        let kind = path.iter().filter(|p| p.parse::<usize>().is_err());
        let signature = format!(
            "{kind:?} {keys:?} {action}",
            kind = kind.collect::<Vec<_>>()
        );
        if !seen.insert(signature) {
            continue;
        }
        let place = format!("{file}: {}", path.join("."));
        let changed = |change: &dyn Fn(&mut Table)| {
            let mut document = document.clone();
            change(table_at(&mut document, &path));
            document
        };
        out.push(Mutant {
            what: format!("{place}: an unknown key beside the others"),
            document: changed(&|t| {
                t.insert("colour".to_owned(), Value::Integer(1));
            }),
        });
        for &(field, shape) in fields {
            if t.contains_key(field) {
                out.push(Mutant {
                    what: format!("{place}: {field} left out"),
                    document: changed(&|t| {
                        t.remove(field);
                    }),
                });
            }
            for (mistake, value) in mistakes(shape, t.get(field)) {
                let names_probe = value.as_str() == Some(PROBE_FACT)
                    || value
                        .as_array()
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(PROBE_FACT)));
                let mut document = document.clone();
                if names_probe {
                    let env = document
                        .as_table_mut()
                        .unwrap()
                        .entry("environment")
                        .or_insert_with(|| Value::Table(Table::new()));
                    env.as_table_mut()
                        .unwrap()
                        .insert(PROBE_FACT.to_owned(), Value::Float(0.5));
                }
                table_at(&mut document, &path).insert(field.to_owned(), value.clone());
                out.push(Mutant {
                    what: format!("{place}: {field} = {value} ({mistake})"),
                    document,
                });
            }
        }
    }
    // A fact of a type no fact may have.
    if let Some(Value::Table(env)) = root.get("environment") {
        if let Some(name) = env.keys().next() {
            for (mistake, value) in [
                ("a string", s("yes")),
                ("an array", list(&[Value::Boolean(true)])),
                ("a table", table(&[("value", Value::Integer(1))])),
            ] {
                let mut document = document.clone();
                table_at(&mut document, &["environment".to_owned()])
                    .insert(name.clone(), value.clone());
                out.push(Mutant {
                    what: format!("{file}: environment.{name} = {value} ({mistake})"),
                    document,
                });
            }
        }
    }
    out
}

/// The first reason the schema gives for refusing `json`, or `None` when it accepts it.
fn schema_verdict(validator: &jsonschema::Validator, json: &serde_json::Value) -> Option<String> {
    validator
        .iter_errors(json)
        .next()
        .map(|e| format!("{e} at {}", e.instance_path()))
}

/// What the schema and `validate` made of the mutants of `files`.
#[derive(Default)]
struct Agreement {
    /// One line for each mutant only one of them refuses.
    disagreements: Vec<String>,
    both_accept: usize,
    both_reject: usize,
}

/// Checks every mutant of `files` (and each file itself, rewritten as the mutants are) against
/// the schema `schema` and against `validate`.
fn agreement(schema: &serde_json::Value, files: &[(String, String)]) -> Agreement {
    let validator = jsonschema::draft202012::new(schema).unwrap();
    let mut seen = BTreeSet::new();
    let mut a = Agreement::default();
    for (path, text) in files {
        let document: Value = toml::from_str(text).unwrap();
        let unchanged = Mutant {
            what: format!("{path}: as written"),
            document: document.clone(),
        };
        for mutant in std::iter::once(unchanged).chain(mutants(path, &document, &mut seen)) {
            let json = serde_json::to_value(&mutant.document).unwrap();
            let by_schema = schema_verdict(&validator, &json);
            let text = toml::to_string(&mutant.document).unwrap();
            // Lines and columns in validate's reasons are those of the rewritten text.
            let by_validate = Scenario::from_toml(&text, "rewritten.toml")
                .err()
                .map(|d| d.to_string());
            match (&by_schema, &by_validate) {
                (None, None) => a.both_accept += 1,
                (Some(_), Some(_)) => a.both_reject += 1,
                (Some(reason), None) => a.disagreements.push(format!(
                    "{}: the schema refuses it ({reason}); validate accepts it",
                    mutant.what
                )),
                (None, Some(reason)) => a.disagreements.push(format!(
                    "{}: validate refuses it ({}); the schema accepts it",
                    mutant.what,
                    reason.lines().next().unwrap_or_default()
                )),
            }
        }
    }
    a
}

/// Every single-field mistake in every valid scenario is refused by both the schema and
/// `validate`, or accepted by both.
#[test]
fn the_schema_and_validate_accept_and_reject_the_same_mistakes() {
    let a = agreement(&schema(), &valid_scenarios());
    assert!(
        a.disagreements.is_empty(),
        "{} disagreements:\n{}",
        a.disagreements.len(),
        a.disagreements.join("\n")
    );
    // Neither side may get away with accepting or refusing everything.
    assert!(a.both_accept >= 200, "{} accepted by both", a.both_accept);
    assert!(a.both_reject >= 800, "{} refused by both", a.both_reject);
}

/// The agreement test can fail: a schema that has lost a rule, or gained a permission
/// `validate` does not give, disagrees on the mutants that cross it.
#[test]
fn a_schema_that_drifts_from_validate_disagrees() {
    let tiny = valid_scenarios()
        .into_iter()
        .filter(|(p, _)| p.ends_with("/tiny.toml"))
        .collect::<Vec<_>>();
    assert_eq!(tiny.len(), 1);
    type Drift = (&'static str, fn(&mut serde_json::Value));
    let drifts: [Drift; 3] = [
        ("probabilities up to 2", |s| {
            s["$defs"]["Probability"]["anyOf"][0]["maximum"] = 2.into();
        }),
        ("a cost that names a fact", |s| {
            let cost = &mut s["$defs"]["RawControl"]["properties"]["cost"];
            let number = cost.take();
            *cost = serde_json::json!({ "anyOf": [number, { "$ref": "#/$defs/Id" }] });
        }),
        ("a weight that is a number only", |s| {
            let weight = &mut s["$defs"]["Weight"]["anyOf"];
            weight.as_array_mut().unwrap().truncate(1);
        }),
    ];
    for (drift, change) in drifts {
        let mut drifted = schema();
        change(&mut drifted);
        let a = agreement(&drifted, &tiny);
        assert!(
            !a.disagreements.is_empty(),
            "{drift}: no disagreement found"
        );
    }
}

// ------------------------------------------------------------------ weights that name facts

const WEIGHT_FACT: &str = "tests/data/valid/weight-fact.toml";

fn load(text: &str) -> Scenario {
    Scenario::from_toml(text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// `text` with `from` replaced once, checked to be there.
fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

#[test]
fn validate_accepts_weights_that_name_facts() {
    killchain()
        .args(["validate", WEIGHT_FACT])
        .assert()
        .code(0)
        .stderr("")
        .stdout(format!("ok: {WEIGHT_FACT} (8 techniques, 2 controls)\n"));
}

/// The exact evaluator reads the fact's value: a weight written as a fact gives the figures of
/// the same weight written as a number, and other figures than the default weight.
#[test]
fn a_weight_read_from_a_fact_weighs_as_the_number_would() {
    let text = fs::read_to_string(WEIGHT_FACT).unwrap();
    let from_facts = load(&text);
    let literal = replace(&text, "weight = \"mailboxes\"", "weight = 120");
    let literal = load(&replace(
        &literal,
        "weight = \"vpn_gateways\"",
        "weight = 4",
    ));
    let unweighted = replace(&text, "weight = \"mailboxes\"\n", "");
    let unweighted = load(&replace(&unweighted, "weight = \"vpn_gateways\"\n", ""));
    let exact = |s: &Scenario| killchain::exact::evaluate(s).unwrap();
    assert_eq!(exact(&from_facts), exact(&literal));
    assert_ne!(exact(&from_facts), exact(&unweighted));

    // A variant's change of the fact reaches the weight.
    let more = &from_facts.variants[0];
    assert_eq!(more.name, "more-vpn-gateways");
    let forty = replace(&text, "vpn_gateways = 4 ", "vpn_gateways = 40");
    assert_eq!(exact(&more.scenario), exact(&load(&forty)));
    assert_ne!(exact(&more.scenario), exact(&from_facts));
}

/// `weight_not_positive` with its weight naming the fact `problem` instead, and the messages
/// `validate` gives for each value of the fact.
#[test]
fn a_weight_naming_an_unusable_fact_is_reported_like_a_probability() {
    let text = fs::read_to_string(invalid("weight_not_positive")).unwrap();
    let text = replace(&text, "weight = 0\n", "weight = \"problem\"\n");
    let messages = |fact: &str| {
        let source = replace(
            &text,
            "click_rate = 0.3\n",
            &format!("click_rate = 0.3\n{fact}"),
        );
        match Scenario::from_toml(&source, "w.toml") {
            Ok(_) => "accepted".to_owned(),
            Err(e) => e.to_string(),
        }
    };
    assert_eq!(messages("problem = 2.5\n"), "accepted");
    assert_eq!(
        messages("problem = 0\n"),
        "w.toml:31:10: technique \"phish\": weight names environment fact \"problem\" = 0, \
         which is not a number > 0 and at most 1e12"
    );
    assert_eq!(
        messages("problem = 3e12\n"),
        "w.toml:31:10: technique \"phish\": weight names environment fact \"problem\" = 3e12, \
         which is not a number > 0 and at most 1e12"
    );
    assert_eq!(
        messages("problem = true\n"),
        "w.toml:31:10: technique \"phish\": weight names environment fact \"problem\" = true, \
         a boolean; a weight needs a numeric fact"
    );
    assert_eq!(
        messages(""),
        "w.toml:30:10: technique \"phish\": weight names unknown environment fact \"problem\"; \
         numeric facts: click_rate"
    );
    assert_eq!(
        messages("problm = 2\n"),
        "w.toml:31:10: technique \"phish\": weight names unknown environment fact \"problem\"; \
         numeric facts: click_rate, problm; did you mean \"problm\"?"
    );
    let boolean = replace(&text, "weight = \"problem\"\n", "weight = true\n");
    assert_eq!(
        Scenario::from_toml(&boolean, "w.toml")
            .unwrap_err()
            .to_string(),
        "w.toml:30:10: technique \"phish\": weight is a boolean; expected a number > 0 and at \
         most 1e12 or the name of a numeric environment fact"
    );
}

//! `navigator-layer.json`: an ATT&CK Navigator layer (layer format 4.5) scoring each ATT&CK
//! technique by how often the defence stopped the adversary's attempts with it.
//!
//! Built from `techniques.csv` (one layer; one per variant when the file has a `variant`
//! column, as `compare` writes it, and then the file is a JSON array of layers).
//!
//! Invariant: no entry names a `tactic`. A kill-chain phase does not determine an ATT&CK tactic
//! (T1078 is Initial Access, Persistence, Privilege Escalation and Defense Evasion at once), and
//! the Navigator shows an entry that names a tactic only under that tactic; an entry without one
//! is shown under every tactic ATT&CK files the technique under, in whichever ATT&CK release the
//! Navigator has loaded. No `versions.attack` either, so the Navigator opens the layer in its
//! current release without offering to upgrade it. Sub-techniques are scored on their own entry;
//! `layout.expandedSubtechniques` "annotated" has the Navigator open every parent with a scored
//! sub-technique, so the score is in view.

use serde_json::{Value, json};

use super::folder::{ResultFolder, Table};
use super::format::count_or_hundredths as count;
use crate::phase::Phase;

/// Navigator layer format version written.
pub const LAYER_VERSION: &str = "4.5";
/// Navigator version the layer declares: the ATT&CK Navigator 5 series reads layer format 4.5
/// (mitreattack-python warns on any `navigator` version outside 5.x).
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// Per ATT&CK id: summed counts of every scenario technique with that id, whatever its phase.
#[derive(Debug, Default, Clone, PartialEq)]
struct Entry {
    attack: String,
    techniques: Vec<String>,
    attempts: f64,
    successes: f64,
    prevented: f64,
    deceived: f64,
    interrupted: f64,
    failed: f64,
    evicted: f64,
}

impl Entry {
    /// Attempts the defence stopped: prevented + deceived + interrupted + evicted, at most the
    /// attempts (an attempt diverted into a decoy, or interrupted, that also ended in eviction
    /// counts in two of these columns).
    fn stopped(&self) -> f64 {
        (self.prevented + self.deceived + self.interrupted + self.evicted).min(self.attempts)
    }

    /// 100 × stopped / attempts, rounded to whole points; `None` without attempts.
    fn score(&self) -> Option<f64> {
        (self.attempts > 0.0).then(|| (100.0 * self.stopped() / self.attempts).round())
    }
}

fn entries(t: &Table, rows: &[&Vec<String>]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for row in rows {
        let attack = t.text(row, "attack");
        if Phase::from_id(t.cell(row, "phase")).is_none() || attack.is_empty() {
            continue;
        }
        let i = match out.iter().position(|e| e.attack == attack) {
            Some(i) => i,
            None => {
                out.push(Entry {
                    attack: attack.to_owned(),
                    ..Entry::default()
                });
                out.len() - 1
            }
        };
        let e = &mut out[i];
        e.techniques.push(t.text(row, "technique").to_owned());
        let n = |c: &str| t.num(row, c).unwrap_or(0.0);
        e.attempts += n("attempts");
        e.successes += n("successes");
        e.prevented += n("prevented");
        e.deceived += n("deceived");
        e.interrupted += n("interrupted");
        e.failed += n("failed");
        e.evicted += n("evicted");
    }
    out
}

fn layer(name: &str, description: &str, entries: &[Entry]) -> Value {
    let techniques: Vec<Value> = entries
        .iter()
        .map(|e| {
            let comment = format!(
                "{}: {} attempts; stopped {} (prevented {}, deceived {}, interrupted {}, evicted {}); succeeded {}, failed on their own {}",
                e.techniques.join(", "),
                count(e.attempts),
                count(e.stopped()),
                count(e.prevented),
                count(e.deceived),
                count(e.interrupted),
                count(e.evicted),
                count(e.successes),
                count(e.failed),
            );
            let mut v = json!({
                "techniqueID": e.attack,
                "comment": comment,
                "enabled": true,
            });
            match e.score() {
                Some(s) => v["score"] = json!(s),
                None => v["color"] = json!("#d9d9d9"),
            }
            v
        })
        .collect();
    json!({
        "name": name,
        "versions": { "layer": LAYER_VERSION, "navigator": NAVIGATOR_VERSION },
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "layout": { "expandedSubtechniques": "annotated" },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {
            "colors": ["#ff6666ff", "#ffe766ff", "#8ec843ff"],
            "minValue": 0,
            "maxValue": 100
        },
        "legendItems": [
            { "label": "score 0: the defence never stopped an attempt", "color": "#ff6666ff" },
            { "label": "score 50: half the attempts stopped", "color": "#ffe766ff" },
            { "label": "score 100: every attempt stopped", "color": "#8ec843ff" },
            { "label": "grey: never attempted", "color": "#d9d9d9" }
        ],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": false,
        "selectSubtechniquesWithParent": false
    })
}

/// The layer (or, for a comparison, the array of one layer per variant) as pretty JSON with a
/// trailing newline; `None` when the folder has no `techniques.csv`.
pub fn navigator_layer(folder: &ResultFolder) -> Option<Vec<u8>> {
    let t = folder.table("techniques.csv")?;
    let scenario = folder.scenario_name();
    let how = folder
        .provenance()
        .iter()
        .filter(|(label, _)| ["method", "seed", "trials"].contains(label))
        .map(|(label, v)| format!("{label} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let description = |variant: &str| {
        format!(
            "killchain: {scenario} ({variant}; {how}). Score = 100 × attempts stopped / attempts, where stopped = prevented + deceived + interrupted + evicted (at most the attempts). Each technique is shown under every tactic ATT&CK files it under."
        )
    };
    let value = if t.col("variant").is_some() {
        Value::Array(
            t.by_variant()
                .iter()
                .map(|(variant, rows)| {
                    layer(
                        &format!("{scenario} — {variant}"),
                        &description(variant),
                        &entries(t, rows),
                    )
                })
                .collect(),
        )
    } else {
        let rows: Vec<&Vec<String>> = t.rows.iter().collect();
        layer(&scenario, &description("as written"), &entries(t, &rows))
    };
    let mut out = serde_json::to_vec_pretty(&value)
        .unwrap_or_else(|e| panic!("serialising a layer cannot fail: {e}"));
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(csv: &str) -> ResultFolder {
        ResultFolder::parse(&[("techniques.csv", csv.as_bytes())]).unwrap()
    }

    const HEADER: &str = "scenario,technique,name,phase,attack,viable,attempts,successes,success_rate,prevented,deceived,interrupted,failed,detected,evicted,method\r\n";

    #[test]
    fn scores_are_the_share_of_attempts_stopped() {
        let csv = format!(
            "{HEADER}S,phish,Phish,delivery,T1566.001,true,200,50,0.25,100,0,20,30,10,5,monte-carlo\r\nS,vpn,VPN,delivery,,true,10,10,1,0,0,0,0,0,0,monte-carlo\r\nS,enc,Encrypt,actions_on_objectives,T1486,true,40,40,1,0,0,0,0,40,40,monte-carlo\r\nS,exf,Exfil,actions_on_objectives,T1567.002,true,0,0,,0,0,0,0,0,0,monte-carlo\r\n"
        );
        let v: Value = serde_json::from_slice(&navigator_layer(&folder(&csv)).unwrap()).unwrap();
        assert_eq!(v["versions"]["layer"], "4.5");
        assert_eq!(v["versions"]["navigator"], "5.1.0");
        assert_eq!(v["domain"], "enterprise-attack");
        assert!(v["versions"].get("attack").is_none());
        assert_eq!(v["layout"]["expandedSubtechniques"], "annotated");
        let t = v["techniques"].as_array().unwrap();
        assert_eq!(
            t.len(),
            3,
            "the technique without an attack id has no entry"
        );
        // (100 + 0 + 20 + 5) / 200 = 62.5 % → 63
        assert_eq!(t[0]["techniqueID"], "T1566.001");
        assert_eq!(t[0]["score"], 63.0);
        assert!(
            t[0]["comment"]
                .as_str()
                .unwrap()
                .contains("200 attempts; stopped 125")
        );
        assert_eq!(t[1]["techniqueID"], "T1486");
        assert_eq!(t[1]["score"], 100.0);
        assert_eq!(t[2]["techniqueID"], "T1567.002");
        assert!(t[2].get("score").is_none(), "never attempted: no score");
    }

    #[test]
    fn techniques_sharing_an_id_are_summed_and_variants_make_an_array() {
        let header = HEADER.replacen("scenario,", "scenario,variant,", 1);
        let csv = format!(
            "{header}S,baseline,a,A,exploitation,T1203,true,10,10,1,0,0,0,0,0,0,exact\r\nS,baseline,b,B,exploitation,T1203,true,10,0,0,10,0,0,0,0,0,exact\r\nS,edr,a,A,exploitation,T1203,true,4,4,1,0,0,0,0,4,4,exact\r\nS,edr,b,B,exploitation,T1203,true,4,0,0,4,0,0,0,0,0,exact\r\n"
        );
        let v: Value = serde_json::from_slice(&navigator_layer(&folder(&csv)).unwrap()).unwrap();
        let layers = v.as_array().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0]["name"], "S — baseline");
        assert_eq!(layers[0]["techniques"][0]["score"], 50.0);
        assert_eq!(layers[1]["techniques"][0]["score"], 100.0);
        assert_eq!(layers[0]["techniques"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn no_entry_names_a_tactic_and_one_id_at_two_phases_is_one_entry() {
        // T1078 (Valid Accounts) is Initial Access, Persistence, Privilege Escalation and
        // Defense Evasion; a scenario may use it at delivery and at exploitation.
        let csv = format!(
            "{HEADER}S,vpn,VPN login,delivery,T1078,true,10,5,0.5,5,0,0,0,0,0,exact\r\nS,admin,Admin login,exploitation,T1078,true,10,10,1,0,0,0,0,0,0,exact\r\nS,token,Token,command_and_control,T1550.001,true,4,0,0,4,0,0,0,0,0,exact\r\n"
        );
        let v: Value = serde_json::from_slice(&navigator_layer(&folder(&csv)).unwrap()).unwrap();
        let t = v["techniques"].as_array().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["techniqueID"], "T1078");
        assert_eq!(t[0]["score"], 25.0, "5 stopped of 20 attempts");
        assert!(
            t[0]["comment"]
                .as_str()
                .unwrap()
                .starts_with("vpn, admin: 20 attempts")
        );
        assert_eq!(t[1]["techniqueID"], "T1550.001");
        for e in t {
            assert!(e.get("tactic").is_none(), "{e}");
        }
    }
}

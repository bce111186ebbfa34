//! `[[variants]]` in scenario files, through the binary: the exact text of every variant
//! diagnostic (file, line, column, variant, offending id, what would be valid) and that a file
//! with valid variants validates.
//!
//! Each `tests/data/invalid/variant_*.toml` is `tests/data/valid/tiny.toml` plus variants with
//! exactly one problem.

use predicates::prelude::*;

use crate::support::{invalid, killchain, refused, validate_rejects};

/// Asserts that `validate` rejects `kind`'s fixture with exit status 2, empty stdout and exactly
/// these diagnostics (one `error: ` line each, in this order).
fn rejects(kind: &str, diagnostics: &[&str]) {
    validate_rejects(&invalid(kind), diagnostics);
}

#[test]
fn enabling_an_unknown_control_lists_the_controls_and_suggests_one() {
    rejects(
        "variant_unknown_control",
        &[
            "76:18: variant \"filter-and-edr\": unknown control \"mail-filtr\" in `enable`; \
             controls: mail-filter, edr; did you mean \"mail-filter\"?",
        ],
    );
}

#[test]
fn setting_an_unknown_field_lists_the_fields_of_that_kind() {
    rejects(
        "variant_unknown_field",
        &[
            "76:9: variant \"better-edr\": set key \"edr.efectiveness\": unknown field \
             \"efectiveness\" for control \"edr\"; control fields: effectiveness, response, cost; \
             did you mean \"effectiveness\"?",
        ],
    );
}

#[test]
fn setting_a_probability_outside_zero_one_is_rejected() {
    rejects(
        "variant_out_of_range",
        &["76:31: variant \"better-edr\": control \"edr\": effectiveness 1.2 is outside [0, 1]"],
    );
}

#[test]
fn a_fact_change_that_breaks_a_probability_names_the_fact_and_the_technique() {
    rejects(
        "variant_fact_out_of_range",
        &[
            "76:36: variant \"careless-staff\": environment fact \"click_rate\" = 1.5 is outside \
             [0, 1], but technique \"phish\" takes its success from it",
        ],
    );
}

#[test]
fn a_duplicate_variant_name_names_the_first_definition() {
    rejects(
        "variant_duplicate_name",
        &[
            "79:8: duplicate variant name \"stronger-filter\": already used by the variant on \
             line 75; variant names must be unique",
        ],
    );
}

#[test]
fn a_fact_set_to_a_value_of_the_wrong_type_is_rejected() {
    rejects(
        "variant_fact_type",
        &[
            "76:29: variant \"some-mfa\": environment fact \"mfa\" is a boolean; expected true or \
             false, got 0.5",
        ],
    );
}

#[test]
fn enabling_a_technique_is_rejected_with_the_controls() {
    rejects(
        "variant_enable_technique",
        &[
            "76:11: variant \"more-phishing\": \"phish\" in `enable` is a technique; \
             enable/disable take control ids; controls: mail-filter, edr",
        ],
    );
}

#[test]
fn a_file_with_valid_variants_validates() {
    let path = "tests/data/valid/variants.toml";
    killchain()
        .args(["validate", path])
        .assert()
        .code(0)
        .stderr("")
        .stdout(predicate::str::starts_with(format!("ok: {path} (")));
}

#[test]
fn run_rejects_a_bad_variant_before_writing_anything() {
    let path = "tests/data/invalid/variant_enable_technique.toml";
    refused(["run", path, "--quiet"])
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "error: {path}:76:11: "
        )));
}
